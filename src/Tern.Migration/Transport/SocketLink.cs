using System.Net.Sockets;

namespace Tern.Migration.Transport;

/// <summary>
/// A link over a connected stream socket (TCP, unix domain, or one end of a socket pair). A frame goes out as one
/// gathered send (<c>sendmsg</c> with two buffers): no copy into one buffer, and no second system call for the payload.
/// </summary>
public sealed class SocketLink : MigrationLink
{
    private readonly Socket socket;
    // The two-element list a gathered send takes, reused: one writer thread per link.
    private readonly ArraySegment<byte>[] gather = new ArraySegment<byte>[2];

    /// <param name="socket">Connected; this link owns it from now on.</param>
    /// <param name="peer">Who is at the other end, for messages.</param>
    public SocketLink(Socket socket, string peer)
    {
        this.socket = socket;
        Peer = peer;
    }

    public override string Peer { get; }

    public override int Read(Span<byte> buffer) => socket.Receive(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel) => socket.ReceiveAsync(buffer, SocketFlags.None, cancel);

    public override void Write(ArraySegment<byte> header, ArraySegment<byte> payload)
    {
        if (payload.Count == 0)
        {
            SendAll(header);
            return;
        }
        gather[0] = header;
        gather[1] = payload;
        // A blocking gathered send returns when all of it is queued in the socket buffer (the runtime resends any
        // part a signal interrupted), or throws.
        int sent = socket.Send(gather, SocketFlags.None);
        if (sent != header.Count + payload.Count)
            throw new IOException($"a write to {Peer} stopped after {sent} of {header.Count + payload.Count} bytes");
    }

    private void SendAll(ArraySegment<byte> bytes)
    {
        var rest = bytes.AsSpan();
        while (!rest.IsEmpty) rest = rest[socket.Send(rest)..];
    }

    public override bool HasUnreadBytes
    {
        get
        {
            try
            {
                return socket.Available > 0;
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return false;
            }
        }
    }

    public override void StopReading()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Receive);
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
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: nothing more will be sent.
        }
    }

    public override Stream AsStream() => new NetworkStream(socket, ownsSocket: true);

    protected override void Dispose(bool disposing)
    {
        if (disposing) socket.Dispose();
    }
}
