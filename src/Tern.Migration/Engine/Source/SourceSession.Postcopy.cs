using Tern.Memory.Dirty;
using Tern.Migration.Api;
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
    internal FrameConnection OpenUrgentLane()
    {
        var connection = new FrameConnection(destinationUri!.ConnectAsync(ConnectTimeout, cancel.Token).GetAwaiter().GetResult());
        try
        {
            var payload = new PayloadWriter();
            new ChannelHelloMessage(session, ProtocolConstants.UrgentLane).Write(payload);
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

    /// <summary>
    /// With x-verify: compares the destination's digest of the pages as they arrived with this side's RAM, which has
    /// not changed since the pause (<see cref="Pages.PageSetDigest"/>).
    /// </summary>
    internal void VerifyPostcopy(PostcopyDoneMessage done)
    {
        if (!settings.IsEnabled(MigrationCapability.Verify) || (negotiated & ProtocolCapability.Verify) == 0) return;
        using var digest = new Pages.PageSetDigest();
        digest.AddMemory(machine.Memory, _ => true);
        var result = new VerificationResult(done.HasDigest && done.Digest == digest.Value, digest.Value, done.Digest, digest.Pages);
        Verification = result;
        if (!result.Matched)
            throw new VerificationFailedException($"verification failed after post-copy: page digest 0x{digest.Value:x16} on the source, " +
                $"0x{done.Digest:x16} on the destination (the guest runs there; the source keeps its paused copy)");
        Log($"verified after post-copy: {result.PagesCompared} non-zero pages, digest 0x{digest.Value:x16} on both sides");
    }
}
