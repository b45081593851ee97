using System.Net.Sockets;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Support;

/// <summary>What a <see cref="FaultTransport"/> does to the bytes a source sends on one connection.</summary>
internal sealed record TransportFault(TransportFaultKind Kind, long Offset)
{
    /// <summary>The connection is cut (both directions) once <paramref name="bytes"/> bytes have gone out.</summary>
    public static TransportFault CutAfter(long bytes) => new(TransportFaultKind.Cut, bytes);

    /// <summary>The byte at <paramref name="offset"/> of the stream arrives with its bits inverted.</summary>
    public static TransportFault CorruptByteAt(long offset) => new(TransportFaultKind.Corrupt, offset);

    /// <summary>After <paramref name="bytes"/> bytes, writes block as if the peer stopped reading (until the link is closed).</summary>
    public static TransportFault StallAfter(long bytes) => new(TransportFaultKind.Stall, bytes);
}

internal enum TransportFaultKind { Cut, Corrupt, Stall }

/// <summary>
/// A transport wrapper that injects one fault into the source-to-destination direction of one connection (the main
/// connection unless told otherwise), in the source's own process: no proxy, no extra port. Everything else passes
/// through to the wrapped transport (the destination listens on it as usual). Test support: the sockets underneath
/// are real, so a cut is a real end of stream on both sides.
/// </summary>
internal sealed class FaultTransport(IMigrationTransport inner, TransportFault fault, int connection = 0) : IMigrationTransport
{
    private readonly ManualResetEventSlim fired = new(false);
    private int opened;

    public string Address => inner.Address;

    /// <summary>Whether the fault has been applied.</summary>
    public bool Fired => fired.IsSet;

    public bool WaitFired(TimeSpan timeout) => fired.Wait(timeout);

    public async Task<MigrationLink> ConnectAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var link = await inner.ConnectAsync(timeout, cancel);
        return Interlocked.Increment(ref opened) - 1 == connection ? new FaultLink(link, fault, fired) : link;
    }

    public IMigrationListener Listen() => inner.Listen();

    public override string ToString() => Address;

    private sealed class FaultLink(MigrationLink inner, TransportFault fault, ManualResetEventSlim fired) : MigrationLink
    {
        private readonly ManualResetEventSlim closed = new(false);
        private long written;

        public override string Peer => inner.Peer;
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel) => inner.ReadAsync(buffer, cancel);
        public override bool HasUnreadBytes => inner.HasUnreadBytes;
        public override void StopReading() => inner.StopReading();
        public override Stream AsStream() => inner.AsStream();
        public override void Flush() => inner.Flush();

        public override void Write(ArraySegment<byte> header, ArraySegment<byte> payload)
        {
            long start = written;
            long length = header.Count + payload.Count;
            if (fault.Offset < start || fault.Offset >= start + length || fired.IsSet)
            {
                inner.Write(header, payload); // untouched: still one gathered write
                written += length;
                return;
            }
            var bytes = new byte[length];
            header.AsSpan().CopyTo(bytes);
            payload.AsSpan().CopyTo(bytes.AsSpan(header.Count));
            int at = (int)(fault.Offset - start);
            switch (fault.Kind)
            {
                case TransportFaultKind.Corrupt:
                    bytes[at] ^= 0xFF;
                    fired.Set();
                    inner.Write(ArraySegment<byte>.Empty, bytes);
                    written += length;
                    return;
                case TransportFaultKind.Cut:
                    if (at > 0) inner.Write(ArraySegment<byte>.Empty, new ArraySegment<byte>(bytes, 0, at));
                    written += at;
                    fired.Set();
                    // Both directions end, as when a cable is pulled and the kernel gives up: the destination reads
                    // the bytes sent so far and then the end of the stream; the source's return path sees its end too.
                    if (inner.AsStream() is NetworkStream network) network.Socket.Shutdown(SocketShutdown.Both);
                    else inner.Dispose();
                    throw new IOException($"connection reset (fault injected after {fault.Offset} bytes)");
                default:
                    if (at > 0) inner.Write(ArraySegment<byte>.Empty, new ArraySegment<byte>(bytes, 0, at));
                    written += at;
                    fired.Set();
                    closed.Wait(); // as a peer that stopped reading: no progress until the link is closed
                    throw new IOException("the write was abandoned: the link was closed while it made no progress");
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (!disposing) return;
            closed.Set();
            inner.Dispose();
        }
    }
}
