using Tern.Memory;

namespace Tern.Migration.Engine;

/// <summary>
/// Allocates the destination's RAM a chunk at a time, just before the first page of data lands in the chunk. Fresh
/// memfd RAM takes a page fault on every first write, and a page fault is the dearest thing the destination does: on
/// a host that is itself a guest it cost 40 µs a page, capping a migration of used RAM at about a tenth of the link
/// (docs/benchmarks.md), while one <c>MADV_POPULATE_WRITE</c> over the same RAM ran 12-17x faster. The first pass
/// sends pages in address order, so populating the chunk around the first arriving page serves the next ones.
/// Zero pages never trigger it, so RAM that holds only zeros on the source stays unallocated here; a chunk with one
/// page of data is allocated whole (at most <see cref="ChunkPages"/> - 1 pages more than the data needs, and never
/// more than the guest's RAM, which the destination must be able to hold anyway). Thread-safe: each chunk is
/// populated by the first channel that claims it; a write racing the populate just faults as it would have.
/// </summary>
internal sealed class FirstTouchPrefaulter(IGuestMemory memory)
{
    /// <summary>256 KiB: one Pages frame of whole pages.</summary>
    public const int ChunkPages = 64;

    private readonly ulong[] claimed = new ulong[(memory.PageCount / ChunkPages + 64) / 64];
    private volatile bool unsupported;

    /// <summary>Called before data is written into <paramref name="page"/> for the first time on this side.</summary>
    public void BeforeFirstWrite(PageIndex page)
    {
        if (unsupported) return;
        ulong chunk = page.Value / ChunkPages;
        ref ulong word = ref claimed[chunk >> 6];
        ulong bit = 1UL << (int)(chunk & 63);
        if ((Volatile.Read(ref word) & bit) != 0 || (Interlocked.Or(ref word, bit) & bit) != 0) return;
        ulong first = chunk * ChunkPages;
        ulong pages = Math.Min(ChunkPages, memory.PageCount - first);
        if (!memory.TryPrefault(new GuestRange(new PageIndex(first).Address, pages * PageSize.Bytes))) unsupported = true;
    }
}
