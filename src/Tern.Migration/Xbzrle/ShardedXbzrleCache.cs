using System.Collections;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// N independent <see cref="XbzrlePageCache"/> shards sharing a total size: page p belongs to shard p mod N. Each
/// shard has a single owner (one sender thread each, say) and no locks; give every page of a shard to the same
/// thread. <see cref="Resize"/> and <see cref="Clear"/> touch every shard, so call them only while no thread is
/// using any shard (between passes).
/// </summary>
public sealed class ShardedXbzrleCache : IReadOnlyList<XbzrlePageCache>
{
    private readonly XbzrlePageCache[] _shards;

    /// <summary>Splits <paramref name="totalBytes"/> evenly over <paramref name="shardCount"/> shards (each at least a page).</summary>
    public ShardedXbzrleCache(int shardCount, ulong totalBytes)
    {
        if (shardCount < 1) throw new ArgumentOutOfRangeException(nameof(shardCount), shardCount, "at least one shard is needed");
        ulong perShard = PerShard(totalBytes, shardCount);
        _shards = new XbzrlePageCache[shardCount];
        for (int s = 0; s < shardCount; s++) _shards[s] = new XbzrlePageCache(perShard, shardCount);
    }

    /// <summary>The shard page <paramref name="page"/> belongs to, for <paramref name="shardCount"/> shards.</summary>
    public static int ShardOf(PageIndex page, int shardCount) => (int)(page.Value % (ulong)shardCount);

    /// <summary>The shard that caches <paramref name="page"/>.</summary>
    public XbzrlePageCache For(PageIndex page) => _shards[ShardOf(page, _shards.Length)];

    public XbzrlePageCache this[int index] => _shards[index];
    public int Count => _shards.Length;

    /// <summary>The capacity of all shards together (each rounded down to whole sets).</summary>
    public ulong CapacityBytes => _shards.Aggregate(0UL, (sum, s) => sum + s.CapacityBytes);

    /// <summary>Host memory allocated by all shards so far.</summary>
    public ulong AllocatedBytes => _shards.Aggregate(0UL, (sum, s) => sum + s.AllocatedBytes);

    /// <summary>Pages cached in all shards.</summary>
    public long CachedPages => _shards.Sum(s => s.Count);

    /// <summary>Resizes every shard to an even part of <paramref name="totalBytes"/>, keeping what fits.</summary>
    public void Resize(ulong totalBytes)
    {
        ulong perShard = PerShard(totalBytes, _shards.Length);
        foreach (var shard in _shards) shard.Resize(perShard);
    }

    public void Clear()
    {
        foreach (var shard in _shards) shard.Clear();
    }

    public IEnumerator<XbzrlePageCache> GetEnumerator() => ((IEnumerable<XbzrlePageCache>)_shards).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _shards.GetEnumerator();

    private static ulong PerShard(ulong totalBytes, int shardCount)
    {
        ulong perShard = totalBytes / (ulong)shardCount;
        if (perShard < PageSize.Bytes)
            throw new ArgumentOutOfRangeException(nameof(totalBytes), totalBytes,
                $"{ByteSize.Format(totalBytes)} split over {shardCount} shards leaves less than a page for each");
        return perShard;
    }
}
