using Tern.Memory;
using Tern.Migration.Engine;
using Tern.Migration.Engine.XbzrleThreads;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Tests.XbzrleThreads;

/// <summary>
/// A page is only ever encoded by one thread: every cache shard, and so every page, has exactly one owning thread for
/// any thread count, and a thread handed a page it does not own refuses it before touching the cache.
/// </summary>
public sealed class ShardOwnershipTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public void Every_page_of_a_shard_belongs_to_the_same_one_thread_and_every_thread_gets_pages(int shards)
    {
        var cache = new ShardedXbzrleCache(shards, (ulong)shards << 20);
        for (int threads = 1; threads <= shards; threads++)
        {
            var ownership = new ShardOwnership(shards, threads);
            var ownerOfShard = new Dictionary<XbzrlePageCache, int>(ReferenceEqualityComparer.Instance);
            var pagesPerThread = new int[threads];
            for (ulong p = 0; p < 10_000; p++)
            {
                var page = new PageIndex(p);
                int owner = ownership.ThreadOf(page);
                Assert.InRange(owner, 0, threads - 1);
                pagesPerThread[owner]++;
                var shard = cache.For(page);
                if (ownerOfShard.TryGetValue(shard, out int before))
                    Assert.True(before == owner, $"{threads} threads: shard {cache.ToList().IndexOf(shard)} has pages of threads {before} and {owner}");
                else ownerOfShard[shard] = owner;
            }
            Assert.All(pagesPerThread, n => Assert.True(n > 0, $"{threads} threads over {shards} shards: a thread got no pages"));
        }
    }

    [Fact]
    public void A_thread_refuses_a_page_whose_shard_another_thread_owns_and_leaves_the_cache_alone()
    {
        var cache = new ShardedXbzrleCache(2, 2 << 20);
        var threadZero = new XbzrleShardEncoder(cache, new ShardOwnership(2, 2), thread: 0);
        var page = new PageIndex(7); // shard 1: thread 1's
        var content = new byte[PageSize.Bytes];
        content[100] = 1;
        var pass = new PassWriter(2, [], 1);

        var refused = Assert.Throws<InvalidOperationException>(() => threadZero.TrySendDelta(page, content, pass, generation: 2));
        Assert.Contains("two threads could encode one page", refused.Message);
        Assert.Throws<InvalidOperationException>(() => threadZero.Invalidate(page));
        Assert.False(cache.For(page).Contains(page));
        Assert.Equal(0, threadZero.Tally.Misses);

        // Its own pages it takes: a miss after the first pass is cached.
        Assert.False(threadZero.TrySendDelta(new PageIndex(8), content, pass, generation: 2));
        Assert.True(cache.For(new PageIndex(8)).Contains(new PageIndex(8)));
    }

    [Theory]
    [InlineData(4UL << 20, 2, 2)]
    [InlineData(4UL << 20, 128, 64)]
    [InlineData(16UL << 10, 8, 1)]   // one set: one shard
    [InlineData(32UL << 10, 8, 2)]
    [InlineData(4096UL, 4, 1)]
    public void A_cache_has_a_shard_per_core_each_at_least_a_set(ulong cacheBytes, int cores, int shards) =>
        Assert.Equal(shards, ShardOwnership.ShardsFor(cacheBytes, cores));
}
