using System.Buffers.Binary;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Protocol;

/// <summary>Frames over a real TCP connection: corruption and truncation are errors that say what happened.</summary>
public sealed class FrameConnectionTests
{
    [Fact]
    public void Frames_cross_a_socket_intact_and_are_counted()
    {
        using var pair = new SocketPair();
        using var writer = new FrameConnection(pair.Left.GetStream(), "left");
        using var reader = new FrameConnection(pair.Right.GetStream(), "right");
        writer.Write(MessageType.Commit, ReadOnlySpan<byte>.Empty);
        writer.Write(MessageType.PassEnd, new byte[12]);
        writer.Flush();
        Assert.Equal(MessageType.Commit, reader.Read().Type);
        var (type, payload) = reader.Read();
        Assert.Equal(MessageType.PassEnd, type);
        Assert.Equal(12, payload.Length);
        Assert.Equal(2 * Frame.HeaderSize + 12, reader.BytesRead);
        Assert.Equal(reader.BytesRead, writer.BytesWritten);
    }

    [Fact]
    public void A_flipped_payload_byte_fails_the_checksum()
    {
        using var pair = new SocketPair();
        var payload = new byte[100];
        var header = new byte[Frame.HeaderSize];
        Frame.WriteHeader(header, MessageType.Pages, payload);
        payload[42] ^= 0x10;
        pair.Left.GetStream().Write([.. header, .. payload]);
        using var reader = new FrameConnection(pair.Right.GetStream(), "right");

        var e = Assert.Throws<ProtocolException>(() => reader.Read());
        Assert.Equal("Pages frame failed its checksum: the stream was corrupted", e.Message);
    }

    [Fact]
    public void A_peer_that_closes_inside_a_payload_is_named_with_how_much_arrived()
    {
        using var pair = new SocketPair();
        var header = new byte[Frame.HeaderSize];
        Frame.WriteHeader(header, MessageType.Pages, new byte[1000]);
        pair.Left.GetStream().Write([.. header, .. new byte[300]]);
        pair.Left.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        using var reader = new FrameConnection(pair.Right.GetStream(), "peer");

        var e = Assert.Throws<EndOfStreamException>(() => reader.Read());
        Assert.Equal("peer closed the connection in the middle of a Pages payload (300 of 1000 bytes)", e.Message);
    }

    [Fact]
    public void A_peer_that_closes_inside_a_header_is_named()
    {
        using var pair = new SocketPair();
        pair.Left.GetStream().Write(new byte[5]);
        pair.Left.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        using var reader = new FrameConnection(pair.Right.GetStream(), "peer");

        var e = Assert.Throws<EndOfStreamException>(() => reader.Read());
        Assert.Equal("peer closed the connection in the middle of a frame header (5 of 12 bytes)", e.Message);
    }

    [Fact]
    public void An_oversize_length_is_rejected_without_waiting_for_the_bytes()
    {
        using var pair = new SocketPair();
        var header = new byte[Frame.HeaderSize];
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)MessageType.Pages);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), uint.MaxValue);
        pair.Left.GetStream().Write(header);
        using var reader = new FrameConnection(pair.Right.GetStream(), "peer");

        var e = Assert.Throws<ProtocolException>(() => reader.Read());
        Assert.Contains($"claims {uint.MaxValue} bytes", e.Message);
    }
}
