using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Postcopy;

/// <summary>
/// One pause of a post-copy migration on the destination: why it paused (the text query-migrate shows), whether the
/// operator has run <c>migrate-recover</c>, and the source's new main connection once it arrives (a ChannelHello with
/// <see cref="ProtocolConstants.RecoveredMain"/>). The destination's main thread waits here; a new pause (the recovery
/// broke too) is a new instance.
/// </summary>
internal sealed class PostcopyPause(string reason)
{
    private readonly TaskCompletionSource<FrameConnection> link = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int recovering;

    /// <summary>What broke and what is still on the source, in the operator's words.</summary>
    public string Reason { get; } = reason;

    /// <summary><c>migrate-recover</c> was run: a source's recovered main connection is taken from now on.</summary>
    public bool Recovering => Volatile.Read(ref recovering) == 1;

    /// <summary><c>migrate-recover</c>: false when it was already run for this pause.</summary>
    public bool BeginRecovery() => Interlocked.Exchange(ref recovering, 1) == 0;

    /// <summary>The source's new main connection arrived: null when it is taken, otherwise why it is refused.</summary>
    public string? Offer(FrameConnection connection)
    {
        if (!Recovering) return "this destination's post-copy is paused but not waiting for a recovery: run migrate-recover on it first";
        return link.TrySetResult(connection) ? null : "a recovery of this post-copy migration is already under way";
    }

    /// <summary>Waits for the source's new main connection; throws when <paramref name="cancel"/> fires (the destination shuts down).</summary>
    public FrameConnection WaitForLink(CancellationToken cancel) => link.Task.WaitAsync(cancel).GetAwaiter().GetResult();
}
