using System.Buffers.Binary;
using Tern.Migration.Transport;
using Tern.Os;

namespace Tern.Migration.Protocol;

/// <summary>
/// Frames over one <see cref="MigrationLink"/> (a TCP or unix socket connection, or a test link). Writes are
/// serialized by the caller (each connection has one writer thread); reads by one reader. Counts the bytes it moves.
/// </summary>
public sealed class FrameConnection : IDisposable
{
    private readonly MigrationLink link;
    private readonly byte[] header = new byte[Frame.HeaderSize];
    private readonly byte[] readHeader = new byte[Frame.HeaderSize];
    private byte[] readBuffer = new byte[64 << 10];
    private byte[] copyBuffer = [];
    private long bytesWritten;
    private long bytesRead;
    private long writeProgressAt; // Stopwatch timestamp of the last write progress; 0 when no write is under way

    public FrameConnection(MigrationLink link)
    {
        this.link = link;
        Peer = link.Peer;
    }

    /// <summary>Frames over a plain stream (tests, recorded streams).</summary>
    public FrameConnection(Stream stream, string peer) : this(new StreamLink(stream, peer))
    {
    }

    /// <summary>Who is at the other end, for messages ("127.0.0.1:4444").</summary>
    public string Peer { get; }

    public long BytesWritten => Interlocked.Read(ref bytesWritten);

    /// <summary>Bytes received so far, counted as they arrive (the frame being read included).</summary>
    public long BytesRead => Interlocked.Read(ref bytesRead);

    /// <summary>
    /// How long the write under way has made no progress (zero when none is under way): a peer that stops reading
    /// leaves a writer blocked here with full socket buffers, and only a watchdog reading this can tell.
    /// </summary>
    public TimeSpan WriteStalledFor
    {
        get
        {
            long since = Volatile.Read(ref writeProgressAt);
            return since == 0 ? TimeSpan.Zero : System.Diagnostics.Stopwatch.GetElapsedTime(since);
        }
    }

    /// <summary>
    /// The most a single write hands to the link: a whole page batch (256 KiB of records) goes out with its header in
    /// one gathered write; only larger frames (machine state) take more, one chunk each, so that progress is
    /// recorded per chunk and a large frame on a slow link is not mistaken for a stall.
    /// </summary>
    public const int WriteChunk = 288 << 10;

    /// <summary>Writes one frame: header and payload in one gathered write (up to <see cref="WriteChunk"/> bytes of payload).</summary>
    public void Write(MessageType type, ReadOnlyMemory<byte> payload)
    {
        if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray(payload, out var segment))
        {
            WriteCopy(type, payload.Span);
            return;
        }
        if (segment.Count > Frame.MaxPayload) throw new ArgumentException($"a {type} payload of {segment.Count} bytes is over the frame limit");
        Frame.WriteHeader(header, type, segment);
        Volatile.Write(ref writeProgressAt, System.Diagnostics.Stopwatch.GetTimestamp());
        try
        {
            var first = segment.Slice(0, Math.Min(WriteChunk, segment.Count));
            link.Write(header, first);
            Progress(Frame.HeaderSize + first.Count);
            var rest = segment.Slice(first.Count);
            while (rest.Count > 0)
            {
                var chunk = rest.Slice(0, Math.Min(WriteChunk, rest.Count));
                link.Write(ArraySegment<byte>.Empty, chunk);
                Progress(chunk.Count);
                rest = rest.Slice(chunk.Count);
            }
        }
        finally
        {
            Volatile.Write(ref writeProgressAt, 0);
        }
    }

    /// <summary>Writes one frame from a span (small control messages): the payload is copied into an array first.</summary>
    public void Write(MessageType type, ReadOnlySpan<byte> payload)
    {
        WriteCopy(type, payload);
    }

    public void Write(MessageType type, PayloadWriter payload) => Write(type, payload.WrittenMemory);

    private void WriteCopy(MessageType type, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > Frame.MaxPayload) throw new ArgumentException($"a {type} payload of {payload.Length} bytes is over the frame limit");
        if (copyBuffer.Length < payload.Length) copyBuffer = new byte[payload.Length];
        payload.CopyTo(copyBuffer);
        Write(type, copyBuffer.AsMemory(0, payload.Length));
    }

    private void Progress(int bytes)
    {
        Interlocked.Add(ref bytesWritten, bytes);
        Volatile.Write(ref writeProgressAt, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    public void Flush() => link.Flush();

    /// <summary>Whether bytes from the peer have arrived that no read has taken yet.</summary>
    public bool HasUnreadBytes => link.HasUnreadBytes;

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
            int n = link.Read(buffer[done..]);
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
    /// that the reader's thread can still tell the peer why). A link that cannot close one direction closes both.
    /// </summary>
    public void StopReading() => link.StopReading();

    /// <summary>Ends the sending side after what was written (see <see cref="MigrationLink.StopWriting"/>).</summary>
    public void StopWriting() => link.StopWriting();

    public void Dispose() => link.Dispose();

    /// <summary>Reads a little-endian u64 from a payload (for page record headers).</summary>
    public static ulong U64(ReadOnlySpan<byte> s) => BinaryPrimitives.ReadUInt64LittleEndian(s);
}
