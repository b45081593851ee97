using Tern.Memory;
using Tern.Migration.Protocol;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Engine.XbzrleThreads;

/// <summary>
/// One thread's XBZRLE work on the cache shards it owns: looks a page up, sends its delta against the cached version
/// (or nothing when it is unchanged) and updates the cache from the same stable copy that is sent, so the cache always
/// equals what the destination holds. The migration thread uses one over every shard; each encoding worker one over
/// its own shards (<see cref="ShardOwnership"/>), and a page of a shard it does not own is refused, so a wrong
/// dispatch fails loudly instead of letting two threads race on one page. Counts go to <see cref="Tally"/>.
/// </summary>
internal sealed class XbzrleShardEncoder(ShardedXbzrleCache cache, ShardOwnership ownership, int thread)
{
    private readonly XbzrleEncoderScratch scratch = new();
    private readonly byte[] delta = new byte[PageSize.Bytes];

    public PageTally Tally { get; } = new();

    /// <summary>
    /// XBZRLE for a page the caller copied out of guest memory: true when it is dealt with (sent as a delta, or
    /// unchanged and skipped); false when the caller must send <paramref name="copy"/> whole (or compressed), in which
    /// case the cache already holds it (a miss cached after the first pass, an overflow updated) or not at all.
    /// </summary>
    public bool TrySendDelta(PageIndex page, ReadOnlySpan<byte> copy, PassWriter writer, ulong generation)
    {
        var shard = ShardOf(page);
        if (shard.TryGet(page, generation, out var old))
        {
            Tally.Hits++;
            var result = XbzrleEncoder.Encode(old, copy, delta, scratch);
            switch (result.Status)
            {
                case XbzrleEncodeStatus.Unchanged:
                    // The destination already holds exactly this: nothing to send.
                    Tally.Skipped++;
                    return true;
                case XbzrleEncodeStatus.Encoded:
                    writer.AppendEncoded(page, PageRecordKind.Xbzrle, delta.AsSpan(0, result.Length));
                    Tally.EncodedPages++;
                    Tally.EncodedBytes += result.Length + XbzrleCounters.QemuHeaderBytes;
                    Tally.Xbzrle++;
                    shard.Update(page, copy, generation);
                    return true;
                default:
                    // QEMU counts an overflow as a page of XBZRLE bytes.
                    Tally.Overflows++;
                    Tally.EncodedBytes += PageSize.Bytes;
                    shard.Update(page, copy, generation);
                    return false;
            }
        }
        Tally.Misses++;
        // A page sent again after the first pass is one the guest keeps dirtying: remember this version.
        if (generation > 1) shard.Insert(page, copy, generation);
        return false;
    }

    /// <summary>The page reached the destination in a form that does not update the cache (zero, compressed): forget it.</summary>
    public void Invalidate(PageIndex page) => ShardOf(page).Invalidate(page);

    private XbzrlePageCache ShardOf(PageIndex page)
    {
        int owner = ownership.ThreadOf(page);
        if (owner != thread) ThrowNotOwner(page, owner);
        return cache.For(page);
    }

    private void ThrowNotOwner(PageIndex page, int owner) =>
        throw new InvalidOperationException(
            $"XBZRLE encoding thread {thread} was given page {page.Value}, whose cache shard belongs to thread {owner} of {ownership.Threads}: " +
            "two threads could encode one page");
}
