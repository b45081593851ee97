using Tern.Memory;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Engine.XbzrleThreads;

/// <summary>
/// Which encoding thread owns which part of the XBZRLE cache. The cache is split into a fixed number of shards when it
/// is made (page p lives in shard p mod shards, <see cref="ShardedXbzrleCache"/>); with n threads, thread t owns the
/// shards s with s mod n = t. So every page has exactly one owner, a page is only ever looked up, encoded and cached
/// by its owner, and two versions of one page can never be encoded at once; a change of thread count between passes
/// only hands whole shards to other threads, without moving a cached page.
/// </summary>
internal readonly record struct ShardOwnership(int Shards, int Threads)
{
    /// <summary>The most shards a cache is split into (and so the most encoding threads).</summary>
    public const int MaxShards = 64;

    /// <summary>The thread that owns <paramref name="page"/>.</summary>
    public int ThreadOf(PageIndex page) => ShardedXbzrleCache.ShardOf(page, Shards) % Threads;

    /// <summary>The thread that owns shard <paramref name="shard"/>.</summary>
    public int ThreadOfShard(int shard) => shard % Threads;

    /// <summary>
    /// Shards for a new cache of <paramref name="cacheBytes"/> on a host with <paramref name="cores"/>: one per core
    /// (no more threads than cores are ever useful), at most <see cref="MaxShards"/>, and no more than leave every
    /// shard a whole set (<see cref="XbzrlePageCache.SetBytes"/>), so a tiny cache stays one shard.
    /// </summary>
    public static int ShardsFor(ulong cacheBytes, int cores) =>
        (int)Math.Max(1, Math.Min((ulong)Math.Clamp(cores, 1, MaxShards), cacheBytes / XbzrlePageCache.SetBytes));
}
