using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Protocol;

/// <summary>The 12-byte frame header: every field that can be wrong is rejected with a message that names it.</summary>
public sealed class FrameHeaderTests
{
    private static byte[] Header(ushort type, ushort flags = 0, uint length = 0, uint crc = 0) => RawFrameHeader.Build(type, flags, length, crc);

    [Fact]
    public void A_written_header_reads_back()
    {
        var h = new byte[Frame.HeaderSize];
        Frame.WriteHeader(h, MessageType.PassEnd, [1, 2, 3]);
        var (type, length, _) = Frame.ReadHeader(h);
        Assert.Equal(MessageType.PassEnd, type);
        Assert.Equal(3, length);
    }

    [Theory]
    [InlineData((ushort)0)]
    [InlineData((ushort)999)]
    [InlineData((ushort)0xffff)]
    public void An_unknown_message_type_is_rejected(ushort type)
    {
        var e = Assert.Throws<ProtocolException>(() => Frame.ReadHeader(Header(type)));
        Assert.Equal($"unknown message type {type}", e.Message);
    }

    [Fact]
    public void Flags_are_rejected_in_version_1()
    {
        var e = Assert.Throws<ProtocolException>(() => Frame.ReadHeader(Header((ushort)MessageType.Pages, flags: 0x80)));
        Assert.Contains("Pages frame has flags 0x80", e.Message);
    }

    [Fact]
    public void A_length_over_the_limit_is_rejected_before_anything_is_allocated()
    {
        var e = Assert.Throws<ProtocolException>(() => Frame.ReadHeader(Header((ushort)MessageType.Pages, length: Frame.MaxPayload + 1u)));
        Assert.Contains($"claims {Frame.MaxPayload + 1} bytes", e.Message);
        var max = Frame.ReadHeader(Header((ushort)MessageType.Pages, length: Frame.MaxPayload));
        Assert.Equal(Frame.MaxPayload, max.Length);
    }
}
