using System.Diagnostics;

namespace Tern.Memory.Postcopy;

/// <summary>
/// Which pages have been requested and when, so that each page is requested once however many accesses fault on it,
/// a page that arrives first is never requested, and the time from request to arrival is measured. Lock-free and
/// allocation-free: one timestamp per page (0: not requested; <see cref="Arrived"/>: placed).
/// </summary>
internal sealed class PageRequests(ulong pageCount)
{
    private const long Arrived = long.MinValue;
    private readonly long[] requestedAt = new long[pageCount];

    /// <summary>True when this call is the page's first request (and so must ask the source).</summary>
    public bool TryBegin(PageIndex page) =>
        Interlocked.CompareExchange(ref requestedAt[page.Value], Stopwatch.GetTimestamp(), 0) == 0;

    /// <summary>
    /// Records the page's arrival; returns the Stopwatch ticks it was waited for, or -1 when it had not been requested
    /// (or had already arrived).
    /// </summary>
    public long Arrive(PageIndex page)
    {
        long started = Interlocked.Exchange(ref requestedAt[page.Value], Arrived);
        return started > 0 ? Stopwatch.GetTimestamp() - started : -1;
    }
}
