using Tern.Memory;
using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Colliding pages: empty ways first, then the least recently used way, never one used in the last 2 generations.</summary>
public class PageCacheEvictionTests
{
    // A 64 KiB cache is 4 sets of 4 ways: pages 0, 4, 8, ... share set 0.
    private static XbzrlePageCache FourSets() => new(64 * 1024);
    private static PageIndex InSetZero(int n) => new((ulong)n * 4);

    [Fact]
    public void FreshEntriesAreNotEvicted()
    {
        var cache = FourSets();
        for (int n = 0; n < 4; n++) Assert.True(cache.Insert(InSetZero(n), PageCacheBasicsTests.PageOf((ulong)n, 1), generation: 5));
        // Generation 6: every way was used 1 generation ago; QEMU's rule keeps them.
        Assert.False(cache.Insert(InSetZero(4), PageCacheBasicsTests.PageOf(16, 1), generation: 6));
        Assert.False(cache.Contains(InSetZero(4)));
        for (int n = 0; n < 4; n++) Assert.True(cache.Contains(InSetZero(n)));
    }

    [Fact]
    public void TheLeastRecentlyUsedStaleEntryIsEvicted()
    {
        var cache = FourSets();
        cache.Insert(InSetZero(0), PageCacheBasicsTests.PageOf(0, 1), generation: 1);
        cache.Insert(InSetZero(1), PageCacheBasicsTests.PageOf(4, 1), generation: 2);
        cache.Insert(InSetZero(2), PageCacheBasicsTests.PageOf(8, 1), generation: 3);
        cache.Insert(InSetZero(3), PageCacheBasicsTests.PageOf(12, 1), generation: 4);
        // A hit refreshes page 0, so page 4 (generation 2) is now the oldest.
        Assert.True(cache.TryGet(InSetZero(0), 5, out _));
        Assert.True(cache.Insert(InSetZero(4), PageCacheBasicsTests.PageOf(16, 1), generation: 5));
        Assert.False(cache.Contains(InSetZero(1)));
        Assert.True(cache.Contains(InSetZero(0)));
        Assert.True(cache.Contains(InSetZero(4)));
        Assert.True(cache.TryGet(InSetZero(4), 5, out var cached));
        Assert.Equal(PageCacheBasicsTests.PageOf(16, 1), cached.ToArray());
        Assert.Equal(4, cache.Count);
    }

    [Fact]
    public void AnEntryTwoGenerationsOldCanBeEvicted()
    {
        var cache = FourSets();
        for (int n = 0; n < 4; n++) cache.Insert(InSetZero(n), PageCacheBasicsTests.PageOf((ulong)n, 1), generation: 5);
        Assert.True(cache.Insert(InSetZero(4), PageCacheBasicsTests.PageOf(16, 1), generation: 7));
        Assert.Equal(4, cache.Count);
    }

    [Fact]
    public void OtherSetsAreUntouched()
    {
        var cache = FourSets();
        for (int n = 0; n < 4; n++) cache.Insert(InSetZero(n), PageCacheBasicsTests.PageOf((ulong)n, 1), generation: 1);
        Assert.True(cache.Insert(new PageIndex(1), PageCacheBasicsTests.PageOf(1, 1), generation: 1)); // set 1
        Assert.Equal(5, cache.Count);
    }

    [Fact]
    public void ShardPagesSpreadOverAllSets()
    {
        // Shard 1 of 4 sees pages 1, 5, 9, ...; with the shard count it fills all 16 ways of a 4-set cache.
        var cache = new XbzrlePageCache(64 * 1024, shardCount: 4);
        for (ulong n = 0; n < 16; n++) Assert.True(cache.Insert(new PageIndex(n * 4 + 1), PageCacheBasicsTests.PageOf(n, 1), 1));
        Assert.Equal(16, cache.Count);
    }
}
