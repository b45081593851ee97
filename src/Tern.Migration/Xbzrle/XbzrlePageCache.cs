// The XBZRLE page cache: the last version of each page that the destination received, so the next version can be
// sent as a difference against it. Its one invariant: an entry equals what the destination holds for that page.
// The engine keeps it so by inserting or updating a page whenever it sends the page in full or as XBZRLE, and by
// invalidating the page when it sends it some other way without updating the entry (see the method comments).
//
// Layout: 4-way set-associative. Capacity is a whole number of sets of 4 pages (16 KiB), the configured size
// rounded down; a cache of fewer than 4 pages is one set of that many ways. A page maps to set
// (page / shardCount) mod sets, so a run of consecutive pages (consecutive within a shard) as long as the cache
// occupies distinct slots, as in QEMU's direct-mapped cache, and 4 ways absorb most collisions of scattered pages.
//
// Eviction: a page that is not cached takes an empty way of its set, else the way used longest ago (the lowest
// generation: entries remember the dirty-sync generation in which they were last inserted, updated or hit). Like
// QEMU's page_cache.c, an entry used within the last 2 generations is not evicted: when every way of the set is
// that fresh the insertion is refused, so two pages colliding in a busy set do not evict each other on every pass
// and never produce a hit.
//
// Storage: page data lives in 4 MiB chunks (1024 slots) of safe byte arrays, allocated the first time an entry
// lands in them and allocated uninitialised (a slot is read only after it was written), so a large configured
// cache costs host memory only as it fills, and caches beyond 2 GiB need no single huge array.
//
// Threads: one owner per instance, no locks. Spans returned by TryGet stay valid only until the next call that
// changes the cache. To use several threads, give each a shard (ShardedXbzrleCache).
using System.Diagnostics;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>The XBZRLE cache of pages as last sent (layout, eviction and threading rules at the top of this file).</summary>
public sealed partial class XbzrlePageCache
{
    /// <summary>Pages per set.</summary>
    public const int Ways = 4;

    /// <summary>The cache's granularity: capacities are whole sets of this many bytes (smaller caches aside).</summary>
    public const ulong SetBytes = Ways * (ulong)PageSize.Bytes;

    /// <summary>An entry used within this many generations is not evicted by a colliding page (QEMU's CACHED_PAGE_LIFETIME).</summary>
    public const ulong FreshGenerations = 2;

    private readonly ulong _shardCount;
    private Storage _storage;

    /// <summary>
    /// Creates a cache of at most <paramref name="capacityBytes"/> (at least one page). A shard of a
    /// <see cref="ShardedXbzrleCache"/> passes its shard count, so that its pages (all with the same index modulo that
    /// count) spread over all sets; any page index still works.
    /// </summary>
    public XbzrlePageCache(ulong capacityBytes, int shardCount = 1)
    {
        if (shardCount < 1) throw new ArgumentOutOfRangeException(nameof(shardCount), shardCount, "the shard count must be at least 1");
        _shardCount = (ulong)shardCount;
        _storage = new Storage(capacityBytes);
    }

    /// <summary>Bytes of page data the cache can hold: the requested capacity rounded down to whole sets.</summary>
    public ulong CapacityBytes => _storage.Slots * PageSize.Bytes;

    /// <summary>Pages the cache can hold.</summary>
    public ulong CapacityPages => _storage.Slots;

    /// <summary>Pages cached now.</summary>
    public long Count { get; private set; }

    /// <summary>Host memory allocated for page data so far (chunks are allocated as entries first land in them).</summary>
    public ulong AllocatedBytes => _storage.AllocatedBytes;

    /// <summary>
    /// Finds the cached version of <paramref name="page"/>. A hit marks the entry as used in
    /// <paramref name="generation"/>. The span is valid until the next call that changes the cache.
    /// </summary>
    public bool TryGet(PageIndex page, ulong generation, out ReadOnlySpan<byte> cached)
    {
        var set = _storage.Locate(SetOf(page));
        ulong key = KeyOf(page);
        if (set.Chunk is { } chunk)
        {
            for (int w = 0; w < set.Ways; w++)
            {
                int slot = set.FirstSlot + w;
                if (chunk.Keys[slot] != key) continue;
                chunk.Generations[slot] = generation;
                cached = chunk.Page(slot);
                return true;
            }
        }
        cached = default;
        return false;
    }

    /// <summary>Whether <paramref name="page"/> is cached, without marking it used.</summary>
    public bool Contains(PageIndex page) => FindSlot(page, out _, out _);

    /// <summary>
    /// Caches <paramref name="content"/> as the destination's version of <paramref name="page"/>, replacing the
    /// page's entry if it has one, else taking an empty way or evicting the least recently used one. Returns false,
    /// caching nothing, when every way of the page's set was used within <see cref="FreshGenerations"/>
    /// generations of <paramref name="generation"/>; the page then simply stays uncached.
    /// </summary>
    public bool Insert(PageIndex page, ReadOnlySpan<byte> content, ulong generation)
    {
        CheckPage(content);
        var set = _storage.LocateForWrite(SetOf(page));
        var chunk = set.Chunk!;
        ulong key = KeyOf(page);
        int empty = -1, oldest = -1;
        for (int w = 0; w < set.Ways; w++)
        {
            int slot = set.FirstSlot + w;
            ulong k = chunk.Keys[slot];
            if (k == key)
            {
                Store(chunk, slot, key, content, generation);
                return true;
            }
            if (k == 0)
            {
                if (empty < 0) empty = slot;
            }
            else if (oldest < 0 || chunk.Generations[slot] < chunk.Generations[oldest])
            {
                oldest = slot;
            }
        }
        if (empty >= 0)
        {
            Store(chunk, empty, key, content, generation);
            Count++;
            return true;
        }
        if (IsFresh(chunk.Generations[oldest], generation)) return false;
        Store(chunk, oldest, key, content, generation);
        return true;
    }

    /// <summary>
    /// Replaces the cached version of <paramref name="page"/> if it is cached (after sending it as XBZRLE, or whole
    /// after an overflow); returns false and caches nothing otherwise.
    /// </summary>
    public bool Update(PageIndex page, ReadOnlySpan<byte> content, ulong generation)
    {
        CheckPage(content);
        if (!FindSlot(page, out var chunk, out int slot)) return false;
        Store(chunk!, slot, KeyOf(page), content, generation);
        return true;
    }

    /// <summary>
    /// Forgets <paramref name="page"/>: call it when the page reached the destination some other way (a zero page,
    /// a compressed page) and the entry was not updated to match, so the cache never holds a version the
    /// destination does not. Returns whether the page was cached.
    /// </summary>
    public bool Invalidate(PageIndex page)
    {
        if (!FindSlot(page, out var chunk, out int slot)) return false;
        chunk!.Keys[slot] = 0;
        Count--;
        return true;
    }

    /// <summary>Forgets every page and releases the memory holding them.</summary>
    public void Clear()
    {
        _storage = new Storage(_storage.RequestedBytes);
        Count = 0;
    }

    private ulong SetOf(PageIndex page) => (page.Value / _shardCount) % _storage.Sets;

    /// <summary>Keys are page + 1, so that 0 marks an empty way and fresh arrays need no initialisation.</summary>
    private static ulong KeyOf(PageIndex page)
    {
        if (page.Value == ulong.MaxValue) ThrowPageOutOfRange(page);
        return page.Value + 1;
    }

    private static bool IsFresh(ulong entryGeneration, ulong now) =>
        now < FreshGenerations || entryGeneration > now - FreshGenerations;

    private bool FindSlot(PageIndex page, out Chunk? chunk, out int slot)
    {
        var set = _storage.Locate(SetOf(page));
        ulong key = KeyOf(page);
        chunk = set.Chunk;
        if (chunk is not null)
        {
            for (int w = 0; w < set.Ways; w++)
            {
                slot = set.FirstSlot + w;
                if (chunk.Keys[slot] == key) return true;
            }
        }
        slot = -1;
        return false;
    }

    private static void Store(Chunk chunk, int slot, ulong key, ReadOnlySpan<byte> content, ulong generation)
    {
        content.CopyTo(chunk.Page(slot));
        chunk.Keys[slot] = key;
        chunk.Generations[slot] = generation;
    }

    private static void CheckPage(ReadOnlySpan<byte> content)
    {
        if (content.Length != PageSize.Bytes) XbzrleThrow.NotAPage(nameof(content), content.Length);
    }

    private static void ThrowPageOutOfRange(PageIndex page) =>
        throw new ArgumentOutOfRangeException(nameof(page), page.Value, "page index too large for the XBZRLE cache");

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Count >= 0 && (ulong)Count <= _storage.Slots, "entry count out of range");
    }
}
