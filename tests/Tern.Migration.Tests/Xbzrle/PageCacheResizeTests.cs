using Tern.Memory;
using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Resizing keeps what fits, keeps the most recently used where sets overflow, and never keeps wrong content.</summary>
public class PageCacheResizeTests
{
    [Fact]
    public void GrowingKeepsEverything()
    {
        var cache = new XbzrlePageCache(256 * 1024);
        for (ulong p = 0; p < 64; p++) cache.Insert(new PageIndex(p * 3), PageCacheBasicsTests.PageOf(p, 1), 1);
        long before = cache.Count;
        cache.Resize(4 << 20);
        Assert.Equal(4UL << 20, cache.CapacityBytes);
        Assert.Equal(before, cache.Count);
        for (ulong p = 0; p < 64; p++)
        {
            Assert.True(cache.TryGet(new PageIndex(p * 3), 1, out var cached));
            Assert.Equal(PageCacheBasicsTests.PageOf(p, 1), cached.ToArray());
        }
    }

    [Fact]
    public void ShrinkingKeepsTheMostRecentlyUsedAndCorrectContent()
    {
        var cache = new XbzrlePageCache(1 << 20); // 256 pages
        for (ulong p = 0; p < 256; p++) cache.Insert(new PageIndex(p), PageCacheBasicsTests.PageOf(p, 1), generation: p < 128 ? 1UL : 9UL);
        cache.Resize(512 * 1024); // 128 pages: pages p and p + 128 share a slot's set
        Assert.Equal(128, cache.Count);
        for (ulong p = 0; p < 256; p++)
        {
            bool cached = cache.TryGet(new PageIndex(p), 10, out var content);
            Assert.Equal(p >= 128, cached);
            if (cached) Assert.Equal(PageCacheBasicsTests.PageOf(p, 1), content.ToArray());
        }
    }

    [Fact]
    public void RandomOperationsMatchAModel()
    {
        // Whatever the cache says it holds must be exactly what was last stored for that page.
        var random = new Random(42);
        var cache = new XbzrlePageCache(128 * 1024, shardCount: 1);
        var model = new Dictionary<ulong, int>();
        int version = 0;
        for (int step = 0; step < 20_000; step++)
        {
            var page = new PageIndex((ulong)random.Next(0, 200));
            ulong generation = (ulong)(step / 500);
            switch (random.Next(10))
            {
                case < 4:
                    if (cache.Insert(page, PageCacheBasicsTests.PageOf(page.Value, ++version), generation)) model[page.Value] = version;
                    break;
                case < 6:
                    if (cache.Update(page, PageCacheBasicsTests.PageOf(page.Value, ++version), generation)) model[page.Value] = version;
                    break;
                case 6:
                    cache.Invalidate(page);
                    model.Remove(page.Value);
                    break;
                case 7 when step % 97 == 0:
                    cache.Resize((ulong)random.Next(1, 80) * 4096);
                    break;
                default:
                    if (cache.TryGet(page, generation, out var content))
                    {
                        Assert.True(model.TryGetValue(page.Value, out int v), $"cache returned {page} that was invalidated or never stored");
                        Assert.Equal(PageCacheBasicsTests.PageOf(page.Value, v), content.ToArray());
                    }
                    break;
            }
            Assert.InRange(cache.Count, 0, (long)cache.CapacityPages);
        }
    }
}
