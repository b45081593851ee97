using Tern.Memory;
using Tern.Migration.Engine.Postcopy;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// Post-copy's background stream: after the commit, sends every stale page nobody has requested yet on the main
/// connection, near the latest fault first (<see cref="PostcopyPagesLeft"/>), paced by max-postcopy-bandwidth, then
/// PostcopyStreamEnd. Frames are small (<see cref="PostcopyPageFrames.MaxPages"/>) so that the lane's choice of the
/// next pages follows the faults closely. Writes directly: the main connection's writer thread stopped at Commit.
/// </summary>
/// <param name="digest">x-verify's digest, which takes each page as it is sent; null without verification.</param>
internal sealed class BackgroundPageStream(FrameConnection main, IGuestMemory memory, PostcopyPagesLeft left, BandwidthLimiter limiter, RamCounters counters,
    PostcopySourceDigest? digest)
{
    public long PagesSent { get; private set; }

    /// <param name="finished">True once the destination said every page arrived: the stream stops early.</param>
    public void Run(CancellationToken cancel, Func<bool> finished)
    {
        var batch = new ulong[PostcopyPageFrames.MaxPages];
        var payload = new PayloadWriter(PostcopyPageFrames.MaxPages * (PageSize.Bytes + 8) + 4);
        int n;
        while (!finished() && (n = left.NextBatch(batch)) > 0)
        {
            cancel.ThrowIfCancellationRequested();
            payload.Reset();
            PostcopyPageFrames.Write(payload, memory, batch.AsSpan(0, n), digest);
            limiter.Take(Frame.HeaderSize + payload.Length, cancel);
            main.Write(MessageType.PostcopyPages, payload);
            counters.PostcopyBytesSent(Frame.HeaderSize + payload.Length);
            PagesSent += n;
        }
        if (finished()) return;
        main.Write(MessageType.PostcopyStreamEnd, ReadOnlySpan<byte>.Empty);
        main.Flush();
    }
}
