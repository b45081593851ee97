using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine;

/// <summary>
/// Migrations arriving on one listener (TCP or unix socket), one at a time. Connections are accepted continuously
/// (<see cref="IncomingConnections"/>): a Hello starts the next <see cref="MigrationDestination"/> unless one is under
/// way (that source is refused with an Error saying so), a ChannelHello goes to the migration it names, and anything
/// else is refused without holding up anyone.
/// </summary>
public sealed class IncomingMigrations : IDisposable, IIncomingConnectionHandler
{
    private readonly object gate = new();
    private readonly Func<MigrationDestination?> nextDestination;
    private readonly IncomingConnections connections;
    private MigrationDestination? current;
    private Task settled = Task.CompletedTask;
    private bool disposed;

    /// <param name="listener">Listening already; stays the caller's.</param>
    /// <param name="nextDestination">
    /// The destination for the next Hello (not started yet; subscribe to its events in <see cref="Started"/>), or
    /// null when no more migrations are taken here.
    /// </param>
    public IncomingMigrations(IMigrationListener listener, Func<MigrationDestination?> nextDestination)
    {
        this.nextDestination = nextDestination;
        connections = new IncomingConnections(listener, this);
    }

    /// <summary>One destination, for the first migration only (tests and benchmarks).</summary>
    internal static IncomingMigrations Once(IMigrationListener listener, MigrationDestination destination)
    {
        int taken = 0;
        return new IncomingMigrations(listener, () => Interlocked.Exchange(ref taken, 1) == 0 ? destination : null);
    }

    /// <summary>A Hello arrived and its destination is about to start (raised before it runs).</summary>
    public event Action<MigrationDestination>? Started;

    /// <summary>A destination has ended and every thread that wrote its guest RAM has stopped.</summary>
    public event Action<MigrationDestination>? Finished;

    /// <summary>Connections that were refused or closed, in the operator's words.</summary>
    public event Action<string>? Log;

    /// <summary>How many new connections are waiting to say who they are.</summary>
    public int PendingConnections => connections.Pending;

    string? IIncomingConnectionHandler.OnHello(FrameConnection connection, ReadOnlyMemory<byte> payload)
    {
        MigrationDestination? before;
        Task previousSettled;
        lock (gate)
        {
            before = current;
            previousSettled = settled;
        }
        if (before is not null && !before.Completion.IsCompleted)
        {
            if (!before.Ending) return "another migration is under way on this destination";
            // The last attempt failed and is winding down (the source may be retrying at once): let it finish.
            previousSettled.Wait();
        }
        MigrationDestination? next;
        lock (gate)
        {
            if (disposed || current != before) return "another migration is under way on this destination";
            next = nextDestination();
            if (next is null) return "this destination takes no more migrations";
            current = next;
            settled = next.Completion.ContinueWith(_ => Finished?.Invoke(next), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        Started?.Invoke(next);
        return next.TryStart(connection, payload) ? null : "this destination is shutting down";
    }

    string? IIncomingConnectionHandler.OnChannelHello(FrameConnection connection, ChannelHelloMessage hello)
    {
        MigrationDestination? session;
        lock (gate) session = current;
        return session is null
            ? $"no migration session {hello.Session} is under way here"
            : session.TryAddChannel(connection, hello);
    }

    void IIncomingConnectionHandler.OnLog(string text) => Log?.Invoke(text);

    /// <summary>Stops accepting connections (the listener stays open) and closes those not yet taken.</summary>
    public void Dispose()
    {
        lock (gate) disposed = true;
        connections.Dispose();
    }
}
