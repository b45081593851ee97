namespace Tern.Memory.Postcopy;

/// <summary>
/// What the missing-page service has done so far. <see cref="KernelFaults"/> are fault messages from the kernel (a
/// vCPU inside KVM_RUN, or a system call, touched a missing page); <see cref="ReportedMisses"/> are accesses managed code
/// reported instead of touching (the simulated guest). Several accesses to one page are several faults but one request.
/// Latencies run from a page's first request to its placement, and <see cref="BlockedTime"/> is their sum: the time
/// vCPUs spent waiting on missing pages, counting once a page that several vCPUs waited for together.
/// </summary>
public sealed record MissingPageCounters(
    long KernelFaults,
    long ReportedMisses,
    long PagesRequested,
    long PagesPlaced,
    long PagesAlreadyPresent,
    TimeSpan BlockedTime,
    long[] LatencyBuckets)
{
    /// <summary>Every access that found its page missing.</summary>
    public long Faults => KernelFaults + ReportedMisses;
}
