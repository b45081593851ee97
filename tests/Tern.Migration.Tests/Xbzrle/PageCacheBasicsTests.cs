using Tern.Memory;
using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Insert, get, update and invalidate keep the cache equal to what was last stored for each page.</summary>
public class PageCacheBasicsTests
{
    internal static byte[] PageOf(ulong page, int version)
    {
        var content = new byte[4096];
        new Random(HashCode.Combine(page, version)).NextBytes(content);
        return content;
    }

    [Fact]
    public void InsertThenGetReturnsTheContent()
    {
        var cache = new XbzrlePageCache(1 << 20);
        var content = PageOf(7, 1);
        Assert.True(cache.Insert(new PageIndex(7), content, generation: 1));
        Assert.True(cache.TryGet(new PageIndex(7), 1, out var cached));
        Assert.Equal(content, cached.ToArray());
        Assert.Equal(1, cache.Count);
        Assert.False(cache.TryGet(new PageIndex(8), 1, out _));
    }

    [Fact]
    public void InsertOfACachedPageReplacesIt()
    {
        var cache = new XbzrlePageCache(1 << 20);
        cache.Insert(new PageIndex(3), PageOf(3, 1), 1);
        cache.Insert(new PageIndex(3), PageOf(3, 2), 2);
        Assert.True(cache.TryGet(new PageIndex(3), 2, out var cached));
        Assert.Equal(PageOf(3, 2), cached.ToArray());
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void UpdateChangesOnlyCachedPages()
    {
        var cache = new XbzrlePageCache(1 << 20);
        Assert.False(cache.Update(new PageIndex(5), PageOf(5, 1), 1));
        Assert.False(cache.Contains(new PageIndex(5)));
        cache.Insert(new PageIndex(5), PageOf(5, 1), 1);
        Assert.True(cache.Update(new PageIndex(5), PageOf(5, 2), 2));
        Assert.True(cache.TryGet(new PageIndex(5), 2, out var cached));
        Assert.Equal(PageOf(5, 2), cached.ToArray());
    }

    [Fact]
    public void InvalidateForgetsThePage()
    {
        var cache = new XbzrlePageCache(1 << 20);
        cache.Insert(new PageIndex(9), PageOf(9, 1), 1);
        Assert.True(cache.Invalidate(new PageIndex(9)));
        Assert.False(cache.TryGet(new PageIndex(9), 1, out _));
        Assert.False(cache.Invalidate(new PageIndex(9)));
        Assert.Equal(0, cache.Count);
        // The freed way is reused.
        Assert.True(cache.Insert(new PageIndex(9), PageOf(9, 2), 2));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void ClearForgetsEverythingAndReleasesMemory()
    {
        var cache = new XbzrlePageCache(1 << 20);
        for (ulong p = 0; p < 100; p++) cache.Insert(new PageIndex(p), PageOf(p, 1), 1);
        Assert.True(cache.AllocatedBytes > 0);
        cache.Clear();
        Assert.Equal(0, cache.Count);
        Assert.Equal(0UL, cache.AllocatedBytes);
        for (ulong p = 0; p < 100; p++) Assert.False(cache.Contains(new PageIndex(p)));
    }

    [Fact]
    public void AsManyConsecutivePagesAsTheCapacityAllFit()
    {
        var cache = new XbzrlePageCache(1 << 20); // 256 pages
        Assert.Equal(256UL, cache.CapacityPages);
        for (ulong p = 1000; p < 1256; p++) Assert.True(cache.Insert(new PageIndex(p), PageOf(p, 1), 1));
        for (ulong p = 1000; p < 1256; p++)
        {
            Assert.True(cache.TryGet(new PageIndex(p), 1, out var cached));
            Assert.Equal(PageOf(p, 1), cached.ToArray());
        }
    }

    [Fact]
    public void CapacityIsRoundedDownToWholeSets()
    {
        Assert.Equal(16384UL, new XbzrlePageCache(20000).CapacityBytes);
        Assert.Equal(4096UL, new XbzrlePageCache(4096).CapacityBytes);
        Assert.Equal(12288UL, new XbzrlePageCache(3 * 4096 + 100).CapacityBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => new XbzrlePageCache(4095));
    }

    [Fact]
    public void RejectsContentThatIsNotAPage()
    {
        var cache = new XbzrlePageCache(1 << 20);
        Assert.Throws<ArgumentException>(() => cache.Insert(new PageIndex(1), new byte[100], 1));
    }
}
