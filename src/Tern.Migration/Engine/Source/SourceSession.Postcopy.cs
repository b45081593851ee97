using System.Diagnostics;
using Tern.Memory.Dirty;
using Tern.Migration.Api;
using Tern.Migration.Engine.Postcopy;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine.Source;

internal sealed partial class SourceSession
{
    private int postcopyRequested;
    /// <summary>The destination's Welcome has been read: <see cref="negotiated"/> is what it accepted.</summary>
    private bool welcomed;
    private readonly TaskCompletionSource<PostcopyDoneMessage> postcopyDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The operator asked for post-copy (<c>migrate-start-postcopy</c>): the next plan starts it.</summary>
    internal bool PostcopyRequested => Volatile.Read(ref postcopyRequested) == 1;

    /// <summary>The switch to post-copy has begun: the return path expects PostcopyDone after Resumed.</summary>
    internal bool InPostcopy { get; private set; }

    internal Task<PostcopyDoneMessage> PostcopyDoneTask => postcopyDone.Task;

    internal FrameConnection MainConnection => main!;
    internal BandwidthLimiter Limiter => limiter;

    /// <summary>The background stream has begun: page data is paced by max-postcopy-bandwidth from now on.</summary>
    private volatile bool postcopyPacing;

    /// <summary>
    /// The rate for page data now: max-bandwidth in pre-copy, max-postcopy-bandwidth (0: unlimited, QEMU's default)
    /// once the guest runs on the destination, where a slower stream means more faults and a longer wait for the rest.
    /// </summary>
    private ulong PageDataBandwidth => postcopyPacing ? settings.Parameters.MaxPostcopyBandwidth : settings.Parameters.MaxBandwidth;

    /// <summary>After the commit, before the background stream: the limiter takes max-postcopy-bandwidth (as QEMU's postcopy_start does).</summary>
    internal void PaceForPostcopy()
    {
        postcopyPacing = true;
        limiter.BytesPerSecond = PageDataBandwidth;
    }

    /// <summary>
    /// <c>migrate-start-postcopy</c>: from the next plan on, the migration switches to post-copy. Refused (with the
    /// reason, in the operator's words) when post-copy-ram is off, the migration is over or already in post-copy.
    /// </summary>
    public void RequestPostcopy()
    {
        if (!settings.IsEnabled(MigrationCapability.PostcopyRam))
            throw new InvalidOperationException("post-copy is not enabled: switch the postcopy-ram capability on (migrate-set-capabilities) before starting the migration");
        var now = status.Current;
        if (now is MigrationStatus.PostcopyActive or MigrationStatus.PostcopyPaused or MigrationStatus.PostcopyRecover || InPostcopy)
            throw new InvalidOperationException("the migration is already in post-copy");
        if (now.IsFinished() || now == MigrationStatus.Cancelling || !Iterating)
            throw new InvalidOperationException($"there is no migration in pre-copy to switch to post-copy (status {now.ToQapi()})");
        if (Volatile.Read(ref welcomed) && (negotiated & ProtocolCapability.Postcopy) == 0)
            throw new InvalidOperationException("the destination does not support post-copy (an older Tern): the migration goes on in pre-copy");
        if (Interlocked.Exchange(ref postcopyRequested, 1) == 1)
            throw new InvalidOperationException("post-copy was already requested: it starts after the current pass");
        Log("post-copy requested by the operator: it starts after the current pass");
    }

    /// <summary>The operator's request turns the planner's decision into post-copy (a final pass stays final).</summary>
    private PassPlan WithPostcopyRequest(PassPlan plan, bool final)
    {
        if (final || !PostcopyRequested || plan.Action == PassAction.Abort) return plan;
        if ((negotiated & ProtocolCapability.Postcopy) == 0)
        {
            // Requested during the setup, before the destination answered: an older peer never sees post-copy.
            if (Interlocked.Exchange(ref postcopyRequested, 0) == 1)
                Log("post-copy was requested, but the destination does not support it (an older Tern): the migration goes on in pre-copy");
            return plan;
        }
        return plan with { Action = PassAction.StartPostcopy, Reason = $"the operator asked for post-copy (migrate-start-postcopy); the planner said: {plan.Reason}" };
    }

    /// <summary>Opens post-copy's urgent lane: a connection of its own, announced by a ChannelHello with the lane's number.</summary>
    internal FrameConnection OpenUrgentLane() => Connect(destinationUri!, ProtocolConstants.UrgentLane);

    /// <summary>A connection to <paramref name="target"/> announced as channel <paramref name="channel"/> of this session.</summary>
    internal FrameConnection Connect(IMigrationTransport target, int channel)
    {
        var connection = new FrameConnection(target.ConnectAsync(ConnectTimeout, cancel.Token).GetAwaiter().GetResult());
        try
        {
            var payload = new PayloadWriter();
            new ChannelHelloMessage(session, channel).Write(payload);
            connection.Write(MessageType.ChannelHello, payload);
            connection.Flush();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private readonly TaskCompletionSource<ulong> discarded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Before the pause, when the destination takes PostcopyDiscard: names the pages dirty at the last sync (stale on
    /// the destination already) and waits until it has dropped them, so that the pause only drops the few dirtied
    /// since. Returns how many held data there and how long it took; null when not negotiated or nothing is dirty.
    /// The guest runs meanwhile; a destination that does not answer fails the migration after the reply timeout,
    /// with the guest still running here.
    /// </summary>
    internal (ulong Dropped, long Named, TimeSpan Took)? DropStalePagesAhead()
    {
        if ((negotiated & ProtocolCapability.PostcopyDiscard) == 0) return null;
        var pages = new DirtyBitmap(dirty!.PageCount);
        dirty.Words.CopyTo(pages.Words);
        long named = pages.Count();
        if (named == 0) return null;
        var started = Stopwatch.GetTimestamp();
        lock (commitGate) handOver.DiscardSent();
        var payload = new PayloadWriter();
        new PostcopyDiscardMessage(pages.PageCount, pages).Write(payload);
        MainChannel.Send(MessageType.PostcopyDiscard, payload);
        ulong dropped = Await(discarded.Task, "the destination to drop the stale pages ahead of the pause (PostcopyDiscard)");
        return (dropped, named, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The pages dirtied since they were last sent (after the final sync): what the destination holds stale.</summary>
    internal DirtyBitmap TakeStalePages()
    {
        var stale = new DirtyBitmap(dirty!.PageCount);
        dirty.Words.CopyTo(stale.Words);
        dirty.ClearAll();
        return stale;
    }

    /// <summary>The switch to post-copy begins: the return path will judge PostcopyDone after Resumed.</summary>
    internal void EnterPostcopy()
    {
        lock (commitGate)
        {
            InPostcopy = true;
            handOver.Postcopy = true;
        }
    }

    /// <summary>x-verify is on and the destination takes it: post-copy keeps a digest of the source's RAM (<see cref="PostcopyDigest"/>).</summary>
    internal bool VerifiesPostcopy => settings.IsEnabled(MigrationCapability.Verify) && (negotiated & ProtocolCapability.Verify) != 0;

    /// <summary>x-verify's digest of this side's RAM from the post-copy switch on; null without verification. The phase owns it.</summary>
    internal PostcopySourceDigest? PostcopyDigest { get; set; }

    /// <summary>
    /// With x-verify: compares the destination's digest of the pages as they arrived with this side's RAM, which has
    /// not changed since the pause (<see cref="Pages.PageSetDigest"/>).
    /// </summary>
    internal void VerifyPostcopy(PostcopyDoneMessage done)
    {
        if (PostcopyDigest is null) return;
        var digest = PostcopyDigest.Finish();
        var result = new VerificationResult(done.HasDigest && done.Digest == digest.Value, digest.Value, done.Digest, digest.Pages);
        Verification = result;
        if (!result.Matched)
            throw new VerificationFailedException($"verification failed after post-copy: page digest 0x{digest.Value:x16} on the source, " +
                $"0x{done.Digest:x16} on the destination (the guest runs there; the source keeps its paused copy)");
        Log($"verified after post-copy: {result.PagesCompared} non-zero pages, digest 0x{digest.Value:x16} on both sides");
    }

    private readonly object linkGate = new();
    private PostcopyLink? postcopyLink;
    private string? pendingLinkBreak;
    private string? pauseReason;

    /// <summary>Where the operator asked a paused post-copy to reconnect (<c>migrate</c> with <c>resume</c>).</summary>
    internal PostcopyResumeRequests ResumeRequests { get; } = new();

    /// <summary>
    /// Once Commit is written in post-copy, a failure anywhere (the return path, the urgent lane, a stalled write) breaks
    /// the link and pauses the migration instead of ending it: the destination may run the guest, and some pages exist
    /// only here. That holds from the commit point on, not only once Resumed arrived: a link that breaks in between
    /// leaves a destination that resumed, or one whose Commit was lost, and either is finished by a recovery.
    /// </summary>
    private bool LinkOwnsFailures => InPostcopy && Volatile.Read(ref commitWritten);

    /// <summary>The post-copy link broke (from any thread); before the phase has taken the link, the reason waits for it.</summary>
    internal void BreakPostcopyLink(string why)
    {
        lock (linkGate)
        {
            if (postcopyLink is { } link) link.Break(why);
            else pendingLinkBreak ??= why;
        }
    }

    /// <summary>
    /// How long a broken connection waits for the destination's PostcopyDone before it counts as a break: a destination
    /// that holds every page sends PostcopyDone and closes every connection, and the urgent lane (or a background write)
    /// may see that close before the return path has read the PostcopyDone ahead of it.
    /// </summary>
    internal static readonly TimeSpan DoneGrace = TimeSpan.FromSeconds(1);

    /// <summary>The urgent lane failed: before the resume the migration fails; after it, the link breaks unless the destination is done.</summary>
    internal void UrgentLaneFailed(Exception e)
    {
        if (!LinkOwnsFailures)
        {
            Fail(e);
            return;
        }
        // The break is for the link this lane belonged to, taken now: after the grace the operator may already have
        // recovered onto a new link, which an old lane's failure must not break (it did, in a test that recovers twice
        // within the second).
        PostcopyLink? link;
        lock (linkGate) link = postcopyLink;
        var done = link?.Done ?? PostcopyDoneTask;
        _ = done.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
            .WaitAsync(DoneGrace).ContinueWith(_ =>
            {
                if (done.IsCompletedSuccessfully) return;
                if (link is null) BreakPostcopyLink(e.Message); // before the phase took its first link: it takes the reason
                else link.Break(e.Message);
            }, TaskScheduler.Default);
    }

    /// <summary>The link post-copy runs on from now on (a break reported before it was taken breaks it at once).</summary>
    internal void UsePostcopyLink(PostcopyLink link)
    {
        lock (linkGate)
        {
            postcopyLink = link;
            if (pendingLinkBreak is { } why)
            {
                pendingLinkBreak = null;
                link.Break(why);
            }
        }
    }

    internal (MessageType, ReadOnlyMemory<byte>) ReadReply(FrameConnection connection, string what) =>
        ReadWithTimeout(connection, ReplyTimeout, what);

    /// <summary>Post-copy pauses here: the status says so, and query-migrate's error-desc says why and what is kept.</summary>
    internal void PausePostcopy(string reason, long pagesLeft, long stalePages)
    {
        var text = $"post-copy paused: {reason}. {pagesLeft} of the {stalePages} pages that were stale at the switch may not have reached the destination; " +
            "the guest stays paused here with every page kept. Run migrate-recover on the destination, then migrate with resume: true here.";
        lock (gate) pauseReason = text;
        if (!status.TryTransition(MigrationStatus.PostcopyActive, MigrationStatus.PostcopyPaused))
            status.TryTransition(MigrationStatus.PostcopyRecover, MigrationStatus.PostcopyPaused);
        Log(text);
    }

    /// <summary><c>migrate</c> with <c>resume: true</c>: a paused post-copy reconnects to <paramref name="destination"/>.</summary>
    public void ResumePostcopy(IMigrationTransport destination)
    {
        var now = status.Current;
        if (now == MigrationStatus.PostcopyRecover)
            throw new InvalidOperationException("the post-copy migration is already being resumed; if that attempt fails it pauses again and may be resumed then");
        if (now != MigrationStatus.PostcopyPaused)
            throw new InvalidOperationException($"resume continues a paused post-copy migration, and this one is {now.ToQapi()}");
        if (!ResumeRequests.Offer(destination))
            throw new InvalidOperationException("a resume was already requested for this pause");
    }

    /// <summary>The host shuts down: a paused post-copy stops waiting for a resume (see <see cref="MigrationSource.Abandon"/>).</summary>
    internal void Abandon()
    {
        if (status.Current is MigrationStatus.PostcopyPaused or MigrationStatus.PostcopyRecover) cancel.Cancel();
    }

    /// <summary><c>migrate-pause</c> on the source: breaks the post-copy link on purpose (status postcopy-paused).</summary>
    public void RequestPause()
    {
        var now = status.Current;
        if (now != MigrationStatus.PostcopyActive)
            throw new InvalidOperationException($"migrate-pause pauses an active post-copy migration, and this one is {now.ToQapi()}");
        BreakPostcopyLink("migrate-pause on the source");
    }
}
