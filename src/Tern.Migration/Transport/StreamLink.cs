using System.Net.Sockets;

namespace Tern.Migration.Transport;

/// <summary>
/// A link over any <see cref="Stream"/>: an in-memory stream in tests, and the place TLS plugs in (an
/// <c>SslStream</c> over another link's <see cref="MigrationLink.AsStream"/>). A stream has no gathered write, so a
/// frame is two writes here: a TLS stream makes one record of each.
/// </summary>
public sealed class StreamLink : MigrationLink
{
    private readonly Stream stream;

    /// <param name="stream">Open; this link owns it from now on.</param>
    public StreamLink(Stream stream, string peer)
    {
        this.stream = stream;
        Peer = peer;
    }

    public override string Peer { get; }

    public override int Read(Span<byte> buffer) => stream.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel) => stream.ReadAsync(buffer, cancel);

    public override void Write(ArraySegment<byte> header, ArraySegment<byte> payload)
    {
        stream.Write(header);
        if (payload.Count > 0) stream.Write(payload);
    }

    public override void Flush() => stream.Flush();

    public override bool HasUnreadBytes
    {
        get
        {
            try
            {
                return stream is NetworkStream { DataAvailable: true };
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }

    public override void StopReading()
    {
        try
        {
            if (stream is NetworkStream network) network.Socket.Shutdown(SocketShutdown.Receive);
            else stream.Dispose();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: nothing is reading any more.
        }
    }

    public override void StopWriting()
    {
        try
        {
            if (stream is NetworkStream network) network.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: nothing more will be sent.
        }
    }

    public override Stream AsStream() => stream;

    protected override void Dispose(bool disposing)
    {
        if (disposing) stream.Dispose();
    }
}
