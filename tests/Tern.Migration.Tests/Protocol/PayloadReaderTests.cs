using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Protocol;

/// <summary>Message payloads are read exactly: short, long, or lying payloads are errors naming the message.</summary>
public sealed class PayloadReaderTests
{
    [Fact]
    public void A_truncated_message_names_the_message_and_the_offset()
    {
        var payload = new PayloadWriter();
        new PassEndMessage(3, 7).Write(payload);
        var e = Assert.Throws<ProtocolException>(() => PassEndMessage.Read(payload.WrittenSpan[..^1]));
        Assert.Equal("PassEnd is truncated: needed 8 more bytes at offset 4, 7 left", e.Message);
    }

    [Fact]
    public void Trailing_bytes_are_rejected()
    {
        var payload = new PayloadWriter();
        new PassBeginMessage(1, 1, false).Write(payload);
        payload.U8(0);
        var e = Assert.Throws<ProtocolException>(() => PassBeginMessage.Read(payload.WrittenSpan));
        Assert.Equal("PassBegin: 1 unexpected bytes after the message", e.Message);
    }

    [Fact]
    public void A_string_longer_than_the_limit_or_than_the_payload_is_rejected()
    {
        var tooLong = new PayloadWriter();
        tooLong.U16(1);
        tooLong.U16(PayloadReader.MaxStringBytes + 1);
        var e = Assert.Throws<ProtocolException>(() => ErrorMessage.Read(MessageType.Error, tooLong.WrittenSpan));
        Assert.Contains("over the 4096-byte limit", e.Message);

        var lying = new PayloadWriter();
        lying.U16(1);
        lying.U16(50);
        lying.Bytes("short"u8);
        e = Assert.Throws<ProtocolException>(() => ErrorMessage.Read(MessageType.Error, lying.WrittenSpan));
        Assert.Contains("Error is truncated", e.Message);
    }

    [Fact]
    public void A_string_that_is_not_UTF8_is_rejected()
    {
        var payload = new PayloadWriter();
        payload.U16(1);
        payload.U16(2);
        payload.Bytes([0xc3, 0x28]);
        var e = Assert.Throws<ProtocolException>(() => ErrorMessage.Read(MessageType.Error, payload.WrittenSpan));
        Assert.Equal("Error: a string is not valid UTF-8", e.Message);
    }

    [Fact]
    public void SetCapability_must_name_exactly_one_capability()
    {
        var payload = new PayloadWriter();
        new SetCapabilityMessage(ProtocolCapability.Xbzrle | ProtocolCapability.Verify, true).Write(payload);
        var e = Assert.Throws<ProtocolException>(() => SetCapabilityMessage.Read(payload.WrittenSpan));
        Assert.Contains("not exactly one capability", e.Message);
    }
}
