using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Transport;

/// <summary>
/// A frame goes to the link as one write of header and payload together (a gathered send on a socket), and arrives
/// intact over a real socket pair, whatever its size.
/// </summary>
public sealed class GatheredFrameWriteTests
{
    [Fact]
    public void A_page_batch_sized_frame_is_one_write_of_header_and_payload()
    {
        var link = new RecordingLink();
        using var frames = new FrameConnection(link);
        var payload = new byte[(256 << 10) + 4104];
        Random.Shared.NextBytes(payload);

        frames.Write(MessageType.Pages, payload.AsMemory());
        frames.Write(MessageType.Commit, ReadOnlySpan<byte>.Empty);
        var hello = new PayloadWriter();
        hello.U64(7);
        frames.Write(MessageType.Ready, hello);

        Assert.Equal(3, link.Writes.Count);
        var (header, body) = link.Writes[0];
        Assert.Equal(Frame.HeaderSize, header.Length);
        Assert.Equal(payload, body);
        Assert.Equal((MessageType.Pages, payload.Length), Decode(header));
        Assert.Equal((MessageType.Commit, 0), Decode(link.Writes[1].Header));
        Assert.Equal((MessageType.Ready, 8), Decode(link.Writes[2].Header));
        Assert.Equal(Frame.HeaderSize * 3 + payload.Length + 8, frames.BytesWritten);
    }

    [Fact]
    public void A_frame_larger_than_a_write_chunk_goes_out_in_chunks_after_its_header()
    {
        var link = new RecordingLink();
        using var frames = new FrameConnection(link);
        var payload = new byte[FrameConnection.WriteChunk * 2 + 5];

        frames.Write(MessageType.DeviceState, payload.AsMemory());

        Assert.Equal([FrameConnection.WriteChunk, FrameConnection.WriteChunk, 5], link.Writes.Select(w => w.Payload.Length));
        Assert.Equal(Frame.HeaderSize, link.Writes[0].Header.Length);
        Assert.All(link.Writes.Skip(1), w => Assert.Empty(w.Header));
    }

    [Fact]
    public async Task Frames_of_every_size_cross_a_socket_pair_intact()
    {
        var cancel = TestContext.Current.CancellationToken;
        var transport = new InProcessTransport();
        using var listener = transport.Listen();
        using var writer = new FrameConnection(await transport.ConnectAsync(TimeSpan.FromSeconds(5), cancel));
        using var reader = new FrameConnection(await listener.AcceptAsync(cancel));
        int[] sizes = [0, 1, 4096, 300_000, 5 << 20]; // the last is larger than both socket buffers together
        var payloads = sizes.Select(n => { var b = new byte[n]; Random.Shared.NextBytes(b); return b; }).ToArray();

        var sending = Task.Run(() => { foreach (var p in payloads) writer.Write(MessageType.Pages, p.AsMemory()); }, cancel);
        foreach (var expected in payloads)
        {
            var (type, got) = reader.Read();
            Assert.Equal(MessageType.Pages, type);
            Assert.True(expected.AsSpan().SequenceEqual(got.Span), $"a {expected.Length}-byte frame arrived changed");
        }
        await sending.WaitAsync(TimeSpan.FromSeconds(30), cancel);
    }

    private static (MessageType, int) Decode(byte[] header)
    {
        var (type, length, _) = Frame.ReadHeader(header);
        return (type, length);
    }

    /// <summary>Records each write the frame layer makes, as the link receives it.</summary>
    private sealed class RecordingLink : MigrationLink
    {
        public List<(byte[] Header, byte[] Payload)> Writes { get; } = [];
        public override string Peer => "recorder";
        public override int Read(Span<byte> buffer) => 0;
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel) => ValueTask.FromResult(0);
        public override void Write(ArraySegment<byte> header, ArraySegment<byte> payload) => Writes.Add((header.ToArray(), payload.ToArray()));
        public override bool HasUnreadBytes => false;
        public override void StopReading() { }
        public override Stream AsStream() => Stream.Null;
        protected override void Dispose(bool disposing) { }
    }
}
