using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// The exact reference model of the built-in workloads, in plain C# (no KVM). For a layout and per-vCPU counters it
/// knows every byte the guest has written:
/// <list type="bullet">
/// <item><see cref="Apply{TPages}"/> performs the guest's writes for a range of counter values (a simulated guest).</item>
/// <item><see cref="PagesWritten"/> and <see cref="ExpectedWorkingSet"/> say which pages writes touch (dirty-log tests).</item>
/// <item><see cref="Verify{TPages}"/> checks every byte of the working set against the counters.</item>
/// </list>
/// Write i of vCPU v, for the page workloads (seq, random, hotcold), stores the 8-byte little-endian value
/// (i + 1) ^ ((v + 1) &lt;&lt; 56) at offset slot * 512 of its target page (see <see cref="WorkloadPrng"/>); for stride it
/// increments one byte; with content=mixed a write fills its whole page (stride: its 1 KiB block, on the first pass)
/// as <see cref="MixedPageContent"/> says; compute and idle write only their counter. Each vCPU follows its own
/// workload (<see cref="VcpuLayout.Workload"/>). The guest stores the counter after the data, so counter c means
/// writes [0, c) are in memory and write c may be (the one in flight, possibly part-way through a page fill);
/// <see cref="Verify{TPages}"/> accepts exactly that write either way.
/// </summary>
public sealed partial class WorkloadModel
{
    private readonly VcpuPlan[] _plans;

    public WorkloadModel(GuestLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Layout = layout;
        _plans = layout.Vcpus.Select(v => new VcpuPlan(
            v.Index,
            v.Workload.Kind == WorkloadKind.Fill ? WorkloadKind.Seq : v.Workload.Kind,
            v.Workload.Content,
            v.Slice.RegionABase.Page.Value,
            v.Slice.RegionAPages,
            v.Slice.RegionBBase.Page.Value,
            v.Slice.RegionBPages,
            WorkloadPrng.Key(v.Workload.Seed, v.Index),
            WorkloadPrng.ValueTag(v.Index),
            v.Workload.Kind == WorkloadKind.HotCold ? WorkloadPrng.HotThreshold(v.Workload.HotProbability) : 1UL << 32,
            v.ControlPage.Page.Value,
            v.Workload.WriteLimit(v.Slice.RegionAPages + v.Slice.RegionBPages))).ToArray();
    }

    public GuestLayout Layout { get; }

    public GuestWorkload Workload => Layout.Workload;

    public int VcpuCount => _plans.Length;

    internal VcpuPlan PlanOf(int vcpu) => _plans[CheckVcpu(vcpu)];

    /// <summary>
    /// Where write <paramref name="i"/> of <paramref name="vcpu"/> lands: the guest-physical address of the 8-byte
    /// store (seq, random, hotcold), of the page a mixed-content write fills, or of the incremented byte (stride).
    /// Throws for idle and compute, which write nothing.
    /// </summary>
    public GuestAddress WriteTarget(int vcpu, ulong i)
    {
        var plan = PlanOf(vcpu);
        if (plan.Kind is WorkloadKind.Idle or WorkloadKind.Compute)
            throw new InvalidOperationException($"{WorkloadSpec.NameOf(plan.Kind)} writes no memory");
        if (plan.Kind == WorkloadKind.Stride)
        {
            ulong slot = i % (plan.PagesA * StrideSlotsPerPage);
            return new PageIndex(plan.FirstPageA).Address.Add(slot * WorkloadSpec.StrideStepBytes);
        }
        var (page, slotIndex) = Target(plan, i);
        if (plan.Content == PageContent.Mixed) return new PageIndex(page).Address;
        return new PageIndex(page).Address.Add((ulong)(slotIndex * WorkloadPrng.SlotStride));
    }

    /// <summary>The 8-byte value write <paramref name="i"/> of <paramref name="vcpu"/> stores (seq, random, hotcold).</summary>
    public ulong WriteValue(int vcpu, ulong i) => WorkloadPrng.Value(PlanOf(vcpu).ValueTag, i);

    /// <summary>Reads each vCPU's counter from its control page.</summary>
    public ulong[] ReadCounters<TPages>(ref TPages ram) where TPages : IGuestPageReader, allows ref struct
    {
        var counters = new ulong[VcpuCount];
        for (int v = 0; v < counters.Length; v++)
            counters[v] = ControlPage.Read(ram.Page(new PageIndex(_plans[v].ControlPage))).Counter;
        return counters;
    }

    public ulong[] ReadCounters(ReadOnlySpan<byte> ram)
    {
        var reader = new SpanPageReader(ram);
        return ReadCounters(ref reader);
    }

    internal const int StrideSlotsPerPage = PageSize.Bytes / WorkloadSpec.StrideStepBytes;

    /// <summary>Page and slot of write i for the page workloads (seq by arithmetic, random and hotcold by the PRNG).</summary>
    internal static (ulong Page, int Slot) Target(in VcpuPlan plan, ulong i)
    {
        if (plan.Kind == WorkloadKind.Seq)
            return (plan.FirstPageA + i % plan.PagesA, (int)(i / plan.PagesA % WorkloadPrng.SlotsPerPage));
        ulong h = WorkloadPrng.Hash(plan.Key, i);
        ulong page = WorkloadPrng.IsHot(h, plan.HotThreshold)
            ? plan.FirstPageA + WorkloadPrng.PickPage(h, plan.PagesA)
            : plan.FirstPageB + WorkloadPrng.PickPage(h, plan.PagesB);
        return (page, WorkloadPrng.Slot(h));
    }

    private int CheckVcpu(int vcpu)
    {
        if ((uint)vcpu >= (uint)_plans.Length)
            throw new ArgumentOutOfRangeException(nameof(vcpu), vcpu, $"the guest has {_plans.Length} vCPUs");
        return vcpu;
    }

    private static void CheckRange(ulong from, ulong to)
    {
        if (to < from) throw new ArgumentException($"counter range [{from}, {to}) runs backwards");
    }
}
