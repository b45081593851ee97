namespace Tern.Migration.Transport;

/// <summary>
/// One connected byte stream between a source and a destination, as a transport opened it: what
/// <see cref="Protocol.FrameConnection"/> reads frames from and writes frames to. Reads are done by one thread at a
/// time, writes by one thread at a time (each connection has one writer and one reader).
/// </summary>
/// <remarks>
/// Implementations: <see cref="SocketLink"/> (TCP, unix sockets, socket pairs: one gathered send per frame) and
/// <see cref="StreamLink"/> (any <see cref="Stream"/>). Wrappers derive from this class too: a fault-injecting link
/// in the tests, and later TLS, which is a <see cref="StreamLink"/> over an <c>SslStream</c> over
/// <see cref="AsStream"/> (see <see cref="IMigrationTransport"/>).
/// </remarks>
public abstract class MigrationLink : IDisposable
{
    /// <summary>Who is at the other end, for messages ("127.0.0.1:4444", "unix:/run/tern.sock").</summary>
    public abstract string Peer { get; }

    /// <summary>Reads what has arrived into <paramref name="buffer"/>, blocking until something has; 0 at end of stream.</summary>
    public abstract int Read(Span<byte> buffer);

    /// <summary>As <see cref="Read"/>, without holding a thread while waiting.</summary>
    public abstract ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel);

    /// <summary>
    /// Writes <paramref name="header"/> then <paramref name="payload"/>, whole, as one write where the link can
    /// (a gathered send on a socket), so a frame costs one system call and never leaves its header in a segment of its
    /// own. Blocks until everything is handed to the link.
    /// </summary>
    public abstract void Write(ArraySegment<byte> header, ArraySegment<byte> payload);

    /// <summary>Sends anything buffered (a no-op on a socket, which buffers nothing here).</summary>
    public virtual void Flush()
    {
    }

    /// <summary>Whether bytes from the peer have arrived that no read has taken yet (false when not known).</summary>
    public abstract bool HasUnreadBytes { get; }

    /// <summary>
    /// Ends the read side only: a blocked <see cref="Read"/> returns end of stream while writes still go out. A link
    /// that cannot close one direction closes both.
    /// </summary>
    public abstract void StopReading();

    /// <summary>This link as a plain stream, for wrappers that need one (TLS). The stream is the link's: disposing either closes both.</summary>
    /// <summary>
    /// Ends the sending side once what was written has gone (a FIN): the peer reads all of it, then end of stream.
    /// Closing a socket that still holds unread bytes sends a reset instead, which can drop what was not yet sent.
    /// </summary>
    public virtual void StopWriting()
    {
    }

    public abstract Stream AsStream();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);

    public override string ToString() => Peer;
}
