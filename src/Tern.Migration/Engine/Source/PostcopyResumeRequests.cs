using Tern.Migration.Transport;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// The operator's <c>migrate</c> with <c>resume: true</c> for a paused post-copy migration: where to reconnect. The
/// migration thread waits here while paused; one request is taken per recovery attempt.
/// </summary>
internal sealed class PostcopyResumeRequests
{
    private readonly object gate = new();
    private TaskCompletionSource<IMigrationTransport> next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>False when a resume was already asked for and not yet taken.</summary>
    public bool Offer(IMigrationTransport destination)
    {
        lock (gate) return next.TrySetResult(destination);
    }

    /// <summary>Waits for the next resume; throws when <paramref name="cancel"/> fires (the migration is being torn down).</summary>
    public IMigrationTransport Take(CancellationToken cancel)
    {
        Task<IMigrationTransport> waiting;
        lock (gate) waiting = next.Task;
        var destination = waiting.WaitAsync(cancel).GetAwaiter().GetResult();
        lock (gate) next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        return destination;
    }
}
