using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Memory.Postcopy;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// The source's side of post-copy: which stale pages have not been sent yet, and where the destination faulted last.
/// The urgent lane and the background stream both take pages from here, each page once (the urgent lane also sends a
/// page again when asked for it, since the background copy may still be queued behind other frames). The background
/// stream goes on from just after the latest fault, where the guest is likely to touch next.
/// </summary>
internal sealed class PostcopyPagesLeft
{
    private readonly ReceivedPages sent;
    private ulong cursor;
    private long faultHint = -1;

    /// <param name="stale">The pages the destination does not hold (set = to send).</param>
    public PostcopyPagesLeft(DirtyBitmap stale)
    {
        sent = new ReceivedPages(stale.PageCount);
        for (ulong p = 0; p < stale.PageCount; p++)
        {
            var page = new PageIndex(p);
            if (!stale.IsSet(page)) sent.Mark(page);
        }
        StaleCount = stale.Count();
    }

    /// <summary>The pages that were stale at the switch.</summary>
    public long StaleCount { get; }

    public bool AllSent => sent.IsComplete;

    public long Left => (long)sent.PageCount - sent.Count;

    /// <summary>A page was requested (and is being sent on the urgent lane): the background goes on after it.</summary>
    public void Requested(PageIndex page)
    {
        sent.Mark(page);
        Volatile.Write(ref faultHint, (long)page.Value);
    }

    /// <summary>Fills <paramref name="into"/> with the next unsent pages for the background stream; returns how many (0: all sent).</summary>
    public int NextBatch(Span<ulong> into)
    {
        long hint = Interlocked.Exchange(ref faultHint, -1);
        if (hint >= 0) cursor = (ulong)hint + 1;
        int n = 0;
        ulong pages = sent.PageCount;
        for (ulong scanned = 0; scanned < pages && n < into.Length && !sent.IsComplete; scanned++)
        {
            if (cursor >= pages) cursor = 0;
            var page = new PageIndex(cursor++);
            if (sent.Mark(page)) into[n++] = page.Value;
        }
        return n;
    }
}
