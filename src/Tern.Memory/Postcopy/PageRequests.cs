using System.Diagnostics;

namespace Tern.Memory.Postcopy;

/// <summary>
/// Which pages have been requested, when, and by whom, so that each page is requested once however many accesses fault
/// on it, a page that arrives first is never requested, and the time from request to arrival is measured. Lock-free and
/// allocation-free: one word per page (0: not requested; <see cref="Arrived"/>: placed; otherwise the request's
/// timestamp shifted left by one, with bit 0 set when a kernel fault asked).
/// </summary>
internal sealed class PageRequests(ulong pageCount)
{
    private const long Arrived = long.MinValue;
    private readonly long[] requested = new long[pageCount];

    /// <summary>True when this call is the page's first request (and so must ask the source).</summary>
    public bool TryBegin(PageIndex page, bool byKernelFault) =>
        Interlocked.CompareExchange(ref requested[page.Value], (Stopwatch.GetTimestamp() << 1) | (byKernelFault ? 1L : 0L), 0) == 0;

    /// <summary>
    /// Records the page's arrival; returns the Stopwatch ticks it was waited for (-1 when it had not been requested, or
    /// had already arrived) and whether a kernel fault requested it.
    /// </summary>
    public long Arrive(PageIndex page, out bool byKernelFault)
    {
        long entry = Interlocked.Exchange(ref requested[page.Value], Arrived);
        byKernelFault = (entry & 1) != 0;
        return entry > 0 ? Stopwatch.GetTimestamp() - (entry >> 1) : -1;
    }
}
