using Tern.Migration.Xbzrle;

namespace Tern.Migration.Engine.XbzrleThreads;

/// <summary>
/// One encoding thread's page and XBZRLE counts since it last handed them on, in plain fields (no interlocked
/// operation per page: with several threads incrementing the shared counters, each increment would fight over one
/// cache line). <see cref="FlushTo"/> adds them to the migration's counters, so the totals stay exact.
/// </summary>
internal sealed class PageTally
{
    public long Normal, Zero, Xbzrle, Skipped;
    public long Hits, Misses, EncodedPages, EncodedBytes, Overflows;

    public void FlushTo(RamCounters ram, XbzrleCounters xbzrle)
    {
        ram.AddPages(Normal, Zero, Xbzrle, Skipped);
        xbzrle.Add(Hits, Misses, EncodedPages, EncodedBytes, Overflows);
        Normal = Zero = Xbzrle = Skipped = 0;
        Hits = Misses = EncodedPages = EncodedBytes = Overflows = 0;
    }
}
