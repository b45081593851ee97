using Tern.Memory;
using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>
/// A shrink works inside the cache's own page arrays: it allocates no new page storage (so a cache shrunk because
/// the host is short of memory never needs more than it held), and every entry it keeps still has its content.
/// </summary>
public class PageCacheShrinkInPlaceTests
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void Shrinking_a_full_cache_allocates_no_new_page_storage()
    {
        var cache = new XbzrlePageCache(64 * MiB); // 16384 pages
        var random = new Random(3);
        for (int i = 0; i < 40_000; i++)
        {
            ulong p = (ulong)random.Next(0, 1 << 20);
            cache.Insert(new PageIndex(p), PageOf(p, 1), (ulong)i / 1000 + 3);
        }
        ulong heldBefore = cache.AllocatedBytes;

        long allocated = GC.GetAllocatedBytesForCurrentThread();
        cache.Resize(24 * MiB);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.Equal(24 * MiB, cache.CapacityBytes);
        Assert.True(allocated < 2 * (long)MiB, $"a shrink to 24 MiB allocated {allocated} bytes (bookkeeping only is expected)");
        Assert.True(cache.AllocatedBytes <= heldBefore, $"{cache.AllocatedBytes} held after, {heldBefore} before");
        ulong chunkBytes = XbzrlePageCache.SlotsPerChunk * 4096UL;
        Assert.True(cache.AllocatedBytes <= 24 * MiB + chunkBytes, $"the shrunk cache still holds {cache.AllocatedBytes} bytes");
        Assert.True(cache.Count > 5000, $"the shrunk cache kept {cache.Count} entries");
    }

    [Fact]
    public void Shrinking_across_chunks_keeps_correct_content()
    {
        // Entries move between chunks and within them; the last sizes end in a partial chunk.
        var cache = new XbzrlePageCache(100 * MiB);
        var random = new Random(11);
        var stored = new Dictionary<ulong, int>();
        for (int i = 0; i < 30_000; i++)
        {
            ulong p = (ulong)random.Next(0, 1 << 21);
            if (cache.Insert(new PageIndex(p), PageOf(p, i), (ulong)random.Next(3, 50))) stored[p] = i;
        }
        cache.Resize(80 * MiB);
        cache.Resize(40 * MiB + 7 * XbzrlePageCache.SetBytes);
        AssertMatches(cache, stored);
    }

    [Fact]
    public void Random_shrinks_keep_exactly_what_they_say_they_keep()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 120; trial++)
        {
            var cache = new XbzrlePageCache((ulong)random.Next(2, 400) * PageSize.Bytes, shardCount: random.Next(1, 4));
            var stored = new Dictionary<ulong, int>();
            int inserts = random.Next(1, 500);
            for (int i = 0; i < inserts; i++)
            {
                ulong p = (ulong)random.Next(0, 1000);
                if (cache.Insert(new PageIndex(p), PageOf(p, i), (ulong)random.Next(3, 20))) stored[p] = i;
            }
            ulong smaller = (ulong)random.Next(1, (int)cache.CapacityPages + 1) * PageSize.Bytes;
            cache.Resize(smaller);
            AssertMatches(cache, stored);
        }
    }

    /// <summary>A page of <paramref name="page"/> and <paramref name="version"/> (cheaper than random bytes).</summary>
    private static byte[] PageOf(ulong page, int version)
    {
        var content = new byte[PageSize.Bytes];
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(content.AsSpan()).Fill(page * 1_000_003 + (ulong)version);
        content[version % PageSize.Bytes] ^= 0x5a;
        return content;
    }

    private static void AssertMatches(XbzrlePageCache cache, Dictionary<ulong, int> stored)
    {
        long hits = 0;
        foreach (var (p, version) in stored)
        {
            if (!cache.Contains(new PageIndex(p))) continue;
            hits++;
            Assert.True(cache.TryGet(new PageIndex(p), 100, out var content));
            Assert.True(PageOf(p, version).AsSpan().SequenceEqual(content), $"page {p} has wrong content after the shrink");
        }
        Assert.Equal(cache.Count, hits);
        Assert.True(hits > 0);
    }
}
