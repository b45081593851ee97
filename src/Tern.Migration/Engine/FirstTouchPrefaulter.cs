using Tern.Memory;

namespace Tern.Migration.Engine;

/// <summary>
/// Allocates the destination's RAM a chunk at a time, just before the first page of data lands in the chunk. Fresh
/// memfd RAM takes a page fault on every first write, and a page fault is the dearest thing the destination does: on
/// a host that is itself a guest it cost 40 µs a page, capping a migration of used RAM at about a tenth of the link
/// (docs/benchmarks.md), while one <c>MADV_POPULATE_WRITE</c> over the same RAM ran 12-17x faster. The first pass
/// sends pages in address order, so populating the chunk around the first arriving page serves the next ones.
/// Zero pages never trigger it, so RAM that holds only zeros on the source stays unallocated here; a chunk with one
/// page of data is allocated whole, at most <see cref="ChunkPages"/> - 1 pages more than the data needs. Scattered
/// pages would make that 64 times the data (a source sending 17 MB of pages, one per chunk, once grew a destination by
/// 1 GB), so the RAM allocated ahead stays within <see cref="AheadRatio"/> times the pages of data that caused it: past
/// that, a chunk is left to fault page by page, as it would without this class. Thread-safe: each chunk is populated
/// by the first channel that claims it; a write racing the populate just faults as it would have.
/// </summary>
internal sealed class FirstTouchPrefaulter(IGuestMemory memory)
{
    /// <summary>256 KiB: one Pages frame of whole pages.</summary>
    public const int ChunkPages = 64;

    /// <summary>
    /// Populated pages per first-written page of data, at most (plus one chunk). Pages in address order fill the chunks
    /// they populate (a ratio of about 1), and chunks a quarter full still get theirs; sparser data pays its own page
    /// faults instead of allocating RAM it does not use.
    /// </summary>
    public const int AheadRatio = 4;

    private readonly ulong[] claimed = new ulong[(memory.PageCount / ChunkPages + 64) / 64];
    private volatile bool unsupported;
    private long dataPages;
    private long populatedPages;

    /// <summary>Called before data is written into <paramref name="page"/> for the first time on this side.</summary>
    public void BeforeFirstWrite(PageIndex page)
    {
        long data = Interlocked.Increment(ref dataPages);
        if (unsupported) return;
        if (Volatile.Read(ref populatedPages) + ChunkPages > AheadRatio * data + ChunkPages) return;
        ulong chunk = page.Value / ChunkPages;
        ref ulong word = ref claimed[chunk >> 6];
        ulong bit = 1UL << (int)(chunk & 63);
        if ((Volatile.Read(ref word) & bit) != 0 || (Interlocked.Or(ref word, bit) & bit) != 0) return;
        ulong first = chunk * ChunkPages;
        ulong pages = Math.Min(ChunkPages, memory.PageCount - first);
        Interlocked.Add(ref populatedPages, (long)pages);
        if (!memory.TryPrefault(new GuestRange(new PageIndex(first).Address, pages * PageSize.Bytes))) unsupported = true;
    }
}
