namespace Tern.Guest;

/// <summary>
/// Everything that decides one vCPU's writes: its workload, regions (as page numbers), PRNG key, value tag, hot
/// threshold and how many writes it ever does (<see cref="WriteLimit"/>: one pass for fill, which the model otherwise
/// treats as seq, since its writes are seq's first pass).
/// </summary>
internal readonly record struct VcpuPlan(
    int Vcpu,
    WorkloadKind Kind,
    PageContent Content,
    ulong FirstPageA,
    ulong PagesA,
    ulong FirstPageB,
    ulong PagesB,
    ulong Key,
    ulong ValueTag,
    ulong HotThreshold,
    ulong ControlPage,
    ulong WriteLimit)
{
    /// <summary>Pages of the slice (A then B), numbered 0 .. PagesA + PagesB - 1.</summary>
    public ulong SlicePages => PagesA + PagesB;

    /// <summary>The slice-relative number of a guest page of this slice.</summary>
    public ulong SliceIndexOf(ulong page) => page >= FirstPageA && page - FirstPageA < PagesA ? page - FirstPageA : PagesA + (page - FirstPageB);

    /// <summary>The guest page of a slice-relative number.</summary>
    public ulong PageAt(ulong sliceIndex) => sliceIndex < PagesA ? FirstPageA + sliceIndex : FirstPageB + (sliceIndex - PagesA);
}
