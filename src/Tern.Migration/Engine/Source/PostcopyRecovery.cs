using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Api;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// The source's side of a paused post-copy migration: it pauses (status postcopy-paused, the guest and every page kept
/// here), waits for the operator's <c>migrate</c> with <c>resume: true</c>, reconnects (postcopy-recover: a new main
/// connection announced by a ChannelHello with <see cref="ProtocolConstants.RecoveredMain"/>), reads which pages the
/// destination holds (PostcopyReceived) and opens a new urgent lane; the pages still to send are exactly the others,
/// those in flight when the link broke included. A reconnection that fails pauses again.
/// </summary>
internal sealed class PostcopyRecovery(SourceSession session)
{
    /// <summary>Pauses after <paramref name="reason"/> and returns once a new link works, with the pages still to send.</summary>
    public (PostcopyLink Link, PostcopyPagesLeft Left) Recover(string reason, PostcopyPagesLeft left)
    {
        var s = session;
        while (true)
        {
            s.PausePostcopy(reason, left.Left, left.StaleCount);
            var target = s.ResumeRequests.Take(s.Cancellation.Token);
            s.StatusCell.TryTransition(MigrationStatus.PostcopyPaused, MigrationStatus.PostcopyRecover);
            s.Log($"post-copy recovery: reconnecting to {target}");
            try
            {
                var (link, stillMissing) = Reconnect(target);
                s.StatusCell.TryTransition(MigrationStatus.PostcopyRecover, MigrationStatus.PostcopyActive);
                s.Log($"post-copy recovered on a new connection to {target}: {stillMissing.Left} pages still to send");
                return (link, stillMissing);
            }
            catch (Exception e) when (!s.Cancellation.IsCancellationRequested)
            {
                reason = $"the recovery to {target} failed ({SourceSession.Describe(e)})";
            }
        }
    }

    private (PostcopyLink, PostcopyPagesLeft) Reconnect(IMigrationTransport target)
    {
        var s = session;
        var main = s.Connect(target, ProtocolConstants.RecoveredMain);
        PostcopyLink? link = null;
        try
        {
            var (type, payload) = s.ReadReply(main, "the destination's PostcopyReceived (is migrate-recover running there?)");
            if (type == MessageType.Error)
                throw new RemoteMigrationException(RemoteText.Sanitize(ErrorMessage.Read(type, payload.Span).Text));
            if (type != MessageType.PostcopyReceived) throw ProtocolException.Unexpected(type, "waiting for PostcopyReceived on a recovered post-copy link");
            var received = PostcopyReceivedMessage.Read(payload.Span, s.Machine.Memory.PageCount);
            var left = new PostcopyPagesLeft(Missing(received));
            s.Log($"post-copy recovery: the destination holds {received.Count()} of {received.PageCount} pages");

            var returnPath = new PostcopyReturnPath(main, why => s.BreakPostcopyLink(why));
            link = new PostcopyLink(main, returnPath.Done);
            link.Own(returnPath);
            s.UsePostcopyLink(link);
            returnPath.Start();
            var lane = new UrgentPageLane(s.Connect(target, ProtocolConstants.UrgentLane), s.Machine.Memory, left, s.Counters, s.UrgentLaneFailed, s.PostcopyDigest);
            link.Own(lane);
            lane.Start();
            if (link.Reason is { } broke) throw new IOException(broke);
            return (link, left);
        }
        catch
        {
            if (link is not null) link.Dispose();
            else main.Dispose();
            throw;
        }
    }

    /// <summary>The pages the destination lacks (set = to send): the complement of what it holds.</summary>
    private static DirtyBitmap Missing(DirtyBitmap received)
    {
        var missing = new DirtyBitmap(received.PageCount);
        var from = received.Words;
        var to = missing.Words;
        for (int i = 0; i < to.Length; i++) to[i] = ~from[i];
        if ((received.PageCount & 63) != 0 && to.Length > 0) to[^1] &= (1UL << (int)(received.PageCount & 63)) - 1;
        return missing;
    }
}
