using System.Buffers.Binary;
using System.Net.Sockets;
using Tern.Os;

namespace Tern.Migration.Protocol;

/// <summary>
/// Frames over one byte stream (a TCP connection). Writes are serialized by the caller (each connection has one
/// writer thread); reads by one reader. Counts the bytes it moves.
/// </summary>
public sealed class FrameConnection : IDisposable
{
    private readonly Stream stream;
    private readonly byte[] header = new byte[Frame.HeaderSize];
    private readonly byte[] readHeader = new byte[Frame.HeaderSize];
    private byte[] readBuffer = new byte[64 << 10];
    private long bytesWritten;
    private long bytesRead;

    public FrameConnection(Stream stream, string peer)
    {
        this.stream = stream;
        Peer = peer;
    }

    /// <summary>Who is at the other end, for messages ("127.0.0.1:4444").</summary>
    public string Peer { get; }

    public long BytesWritten => Interlocked.Read(ref bytesWritten);

    /// <summary>Bytes received so far, counted as they arrive (the frame being read included).</summary>
    public long BytesRead => Interlocked.Read(ref bytesRead);

    public void Write(MessageType type, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > Frame.MaxPayload) throw new ArgumentException($"a {type} payload of {payload.Length} bytes is over the frame limit");
        Frame.WriteHeader(header, type, payload);
        stream.Write(header);
        stream.Write(payload);
        Interlocked.Add(ref bytesWritten, Frame.HeaderSize + payload.Length);
    }

    public void Write(MessageType type, PayloadWriter payload) => Write(type, payload.WrittenSpan);

    public void Flush() => stream.Flush();

    /// <summary>
    /// Reads the next frame. The payload span is valid until the next read. Throws <see cref="EndOfStreamException"/>
    /// when the peer closed the connection, <see cref="ProtocolException"/> for a malformed or corrupted frame.
    /// </summary>
    public (MessageType Type, ReadOnlyMemory<byte> Payload) Read()
    {
        ReadExactly(readHeader, "frame header");
        var (type, length, crc) = Frame.ReadHeader(readHeader);
        if (readBuffer.Length < length) readBuffer = new byte[Math.Max(length, readBuffer.Length * 2)];
        var payload = readBuffer.AsMemory(0, length);
        ReadExactly(payload.Span, $"{type} payload");
        if (Crc32C.Compute(payload.Span) != crc) throw new ProtocolException($"{type} frame failed its checksum: the stream was corrupted");
        return (type, payload);
    }

    private void ReadExactly(Span<byte> buffer, string what)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = stream.Read(buffer[done..]);
            if (n == 0)
            {
                throw new EndOfStreamException(done == 0 && what == "frame header"
                    ? $"{Peer} closed the connection"
                    : $"{Peer} closed the connection in the middle of a {what} ({done} of {buffer.Length} bytes)");
            }
            done += n;
            // Counted as they arrive, not per whole frame: a watchdog reading this sees a slow frame progress.
            Interlocked.Add(ref bytesRead, n);
        }
    }

    /// <summary>
    /// Ends the read side only: a Read blocked on this connection returns end of stream, while writes still go out (so
    /// that the reader's thread can still tell the peer why). Without a socket underneath, closes the stream.
    /// </summary>
    public void StopReading()
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

    public void Dispose() => stream.Dispose();

    /// <summary>Reads a little-endian u64 from a payload (for page record headers).</summary>
    public static ulong U64(ReadOnlySpan<byte> s) => BinaryPrimitives.ReadUInt64LittleEndian(s);
}
