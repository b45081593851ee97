using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine;

/// <summary>
/// <c>migrate-recover</c>'s listener: the address where a paused post-copy migration's source reconnects. It takes the
/// connections of that migration's session only (the recovered main connection, then the urgent lane) and refuses a
/// Hello: a new migration cannot start on a destination whose guest is still arriving.
/// </summary>
public sealed class PostcopyRecoveryListener : IIncomingConnectionHandler, IDisposable
{
    private readonly MigrationDestination destination;
    private readonly IncomingConnections connections;

    /// <param name="listener">Listening already; stays the caller's.</param>
    public PostcopyRecoveryListener(IMigrationListener listener, MigrationDestination destination)
    {
        this.destination = destination;
        connections = new IncomingConnections(listener, this);
    }

    /// <summary>Connections that were refused, in the operator's words.</summary>
    public event Action<string>? Log;

    string? IIncomingConnectionHandler.OnHello(FrameConnection connection, ReadOnlyMemory<byte> payload) =>
        "this destination is recovering a paused post-copy migration: the source resumes it with migrate and resume: true; no new migration starts here";

    string? IIncomingConnectionHandler.OnChannelHello(FrameConnection connection, ChannelHelloMessage hello) =>
        destination.TryAddChannel(connection, hello);

    void IIncomingConnectionHandler.OnLog(string text) => Log?.Invoke(text);

    public void Dispose() => connections.Dispose();
}
