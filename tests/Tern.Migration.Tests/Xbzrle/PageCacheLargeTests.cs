using Tern.Memory;
using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Caches beyond 2 GiB work and take host memory only as they fill.</summary>
public class PageCacheLargeTests
{
    [Fact]
    public void EightGiBCacheAllocatesOnlyTheChunksItUses()
    {
        const ulong eightGiB = 8UL << 30;
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var cache = new XbzrlePageCache(eightGiB);
        Assert.Equal(eightGiB, cache.CapacityBytes);
        Assert.Equal(0UL, cache.AllocatedBytes);

        // Pages far apart, the last ones in sets beyond the 2 GiB and 4 GiB marks of the cache.
        ulong[] pages = [0, 1, 600_000, 1_500_000, 2_097_151];
        foreach (ulong p in pages) Assert.True(cache.Insert(new PageIndex(p), PageCacheBasicsTests.PageOf(p, 1), 1));
        foreach (ulong p in pages)
        {
            Assert.True(cache.TryGet(new PageIndex(p), 1, out var content));
            Assert.Equal(PageCacheBasicsTests.PageOf(p, 1), content.ToArray());
        }
        // Four distinct chunks, not 8 GiB.
        Assert.Equal(4UL * XbzrlePageCache.SlotsPerChunk * 4096, cache.AllocatedBytes);
        long managedAfter = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(managedAfter - managedBefore < 1L << 30, $"the cache took {managedAfter - managedBefore} bytes of managed memory");
        GC.KeepAlive(cache);
    }

    [Fact]
    public void ShardedCacheSplitsTheTotal()
    {
        var sharded = new ShardedXbzrleCache(4, 16UL << 30);
        Assert.Equal(4, sharded.Count);
        Assert.Equal(16UL << 30, sharded.CapacityBytes);
        Assert.Equal(0UL, sharded.AllocatedBytes);
        var page = new PageIndex(1_000_003);
        Assert.Same(sharded[3], sharded.For(page));
        Assert.True(sharded.For(page).Insert(page, PageCacheBasicsTests.PageOf(1, 1), 1));
        Assert.Equal(1, sharded.CachedPages);
        sharded.Resize(1UL << 30);
        Assert.Equal(1UL << 30, sharded.CapacityBytes);
        Assert.True(sharded.For(page).Contains(page));
        sharded.Clear();
        Assert.Equal(0, sharded.CachedPages);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardedXbzrleCache(8, 16 * 1024));
    }
}
