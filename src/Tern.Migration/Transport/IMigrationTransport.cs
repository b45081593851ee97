namespace Tern.Migration.Transport;

/// <summary>
/// A way between a source and a destination: the source connects (once for the main connection, once more per page
/// channel, all to the same place) and the destination listens and accepts. The engine speaks only to this seam;
/// which transport is used follows from the migration URI (<see cref="MigrationUri.CreateTransport"/>): TCP
/// (<c>tcp:HOST:PORT</c>) or a unix domain socket (<c>unix:PATH</c>). Tests plug in <see cref="InProcessTransport"/>
/// (socket pairs, no port) and wrappers that inject faults.
/// </summary>
/// <remarks>
/// TLS plugs in here as a wrapper, not as a scheme of its own: a <c>TlsTransport(IMigrationTransport inner, ...)</c>
/// whose ConnectAsync and accepted links run the handshake on an <c>SslStream</c> over the inner link's
/// <see cref="MigrationLink.AsStream"/> and hand back a <see cref="StreamLink"/> over it. The engine and the frame
/// layer do not change; frames then go out as two TLS writes instead of one gathered send.
/// </remarks>
public interface IMigrationTransport
{
    /// <summary>Where this transport leads, in the operator's words ("tcp:10.0.0.2:4444", "unix:/run/tern.sock").</summary>
    string Address { get; }

    /// <summary>
    /// Opens one connection to the destination. Throws <see cref="IOException"/> naming the address and what to check
    /// when nothing answers within <paramref name="timeout"/> or the connection is refused.
    /// </summary>
    Task<MigrationLink> ConnectAsync(TimeSpan timeout, CancellationToken cancel);

    /// <summary>Starts listening where this transport leads; throws <see cref="IOException"/> saying why it cannot.</summary>
    IMigrationListener Listen();
}

/// <summary>Where a destination waits: accepts connections until disposed.</summary>
public interface IMigrationListener : IDisposable
{
    /// <summary>The address listened on, as a URI a source can use (a TCP port 0 resolved to the port bound).</summary>
    string Address { get; }

    /// <summary>
    /// The next connection. Throws <see cref="ObjectDisposedException"/> once this listener is disposed,
    /// <see cref="OperationCanceledException"/> when <paramref name="cancel"/> fires, and
    /// <see cref="System.Net.Sockets.SocketException"/> for a failure worth retrying (out of descriptors).
    /// </summary>
    Task<MigrationLink> AcceptAsync(CancellationToken cancel);
}
