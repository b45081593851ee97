namespace Tern.Memory.Postcopy;

/// <summary>
/// What the missing-page service has done so far. <see cref="Faults"/> counts accesses that found their page missing:
/// fault messages from the kernel (a vCPU in KVM, or any system call) and waits reported by managed code (the
/// simulated guest); several accesses to one page are several faults but one request. Latencies run from a page's
/// first request to its placement, and <see cref="BlockedTime"/> is their sum: the time vCPUs spent waiting on missing
/// pages, counting once a page that several vCPUs waited for together.
/// </summary>
public sealed record MissingPageCounters(
    long Faults,
    long PagesRequested,
    long PagesPlaced,
    long PagesAlreadyPresent,
    TimeSpan BlockedTime,
    long[] LatencyBuckets);
