namespace Tern.Memory.Postcopy;

/// <summary>
/// What the missing-page service has done so far. <see cref="KernelFaults"/> are fault messages from the kernel (a
/// vCPU inside KVM_RUN, or a system call, touched a missing page); <see cref="ReportedMisses"/> are accesses managed code
/// reported instead of touching (the simulated guest). Several accesses to one page are several faults but one request.
/// Latencies run from a page's first request to its placement. <see cref="BlockedTime"/> is the time vCPUs spent
/// waiting on missing pages: for kernel faults the latencies of the pages they requested (a page that several vCPUs
/// waited for together counts once), for managed code the time spent in its waits (a simulated vCPU asks for all the
/// pages of its next batch at once and waits once for them).
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
