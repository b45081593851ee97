using Tern.Memory;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Protocol;

/// <summary>
/// A destination that has welcomed a source, fed a broken stream through a real socket: each time it answers with
/// an Error that names the problem, ends at once (no hang), and discards its copy.
/// </summary>
public sealed class HostileStreamTests
{
    private static RawSource Welcomed(ProtocolCapability offered = ProtocolCapabilities.Supported)
    {
        var raw = new RawSource();
        raw.Handshake(offered: offered);
        raw.PassBegin(1);
        return raw;
    }

    private static byte[] Header(ushort type, ushort flags = 0, uint length = 0, uint crc = 0) => RawFrameHeader.Build(type, flags, length, crc);

    [Fact]
    public void An_unknown_message_type()
    {
        using var raw = Welcomed();
        raw.Stream.Write(Header(99, 0, 0, 0));
        Assert.Contains("unknown message type 99", raw.ExpectRejection().Text);
    }

    [Fact]
    public void The_reserved_Cancel_message()
    {
        using var raw = Welcomed();
        raw.Send(MessageType.Cancel, _ => { });
        Assert.Contains("unexpected Cancel message while receiving RAM", raw.ExpectRejection().Text);
    }

    [Fact]
    public void Flags_in_a_frame()
    {
        using var raw = Welcomed();
        raw.Stream.Write(Header((ushort)MessageType.Pages, 1, 0, 0));
        Assert.Contains("Pages frame has flags 0x1", raw.ExpectRejection().Text);
    }

    [Fact]
    public void An_oversize_frame_length()
    {
        using var raw = Welcomed();
        raw.Stream.Write(Header((ushort)MessageType.Pages, 0, 0x7fff_ffff, 0));
        Assert.Contains("over the 16777216-byte limit", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_frame_that_fails_its_checksum()
    {
        using var raw = Welcomed();
        var payload = new PayloadWriter();
        payload.U32(1);
        payload.U32(1);
        payload.U64(PageRecord.Header(1, PageRecordKind.Zero));
        var header = new byte[Frame.HeaderSize];
        Frame.WriteHeader(header, MessageType.Pages, payload.WrittenSpan);
        var bytes = payload.WrittenSpan.ToArray();
        bytes[9] ^= 1;
        raw.Stream.Write([.. header, .. bytes]);
        Assert.Contains("Pages frame failed its checksum", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_message_with_trailing_bytes()
    {
        using var raw = Welcomed();
        raw.Send(MessageType.PassEnd, w => { new PassEndMessage(1, 0).Write(w); w.U8(7); });
        Assert.Contains("PassEnd: 1 unexpected bytes after the message", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_truncated_payload()
    {
        using var raw = Welcomed();
        raw.Send(MessageType.PassBegin, w => w.U32(2));
        Assert.Contains("PassBegin is truncated", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_page_outside_guest_RAM_writes_nothing()
    {
        using var raw = Welcomed();
        ulong pages = RawSource.GuestBytes / PageSize.Bytes;
        raw.Pages(1, 1, w =>
        {
            w.U64(PageRecord.Header(pages, PageRecordKind.Normal));
            w.Bytes(Enumerable.Repeat((byte)0x5a, PageSize.Bytes).ToArray());
        });
        var error = raw.ExpectRejection();
        Assert.Contains($"names page {pages}, outside guest RAM ({pages} pages)", error.Text);
    }

    [Fact]
    public void A_bad_XBZRLE_length()
    {
        using var raw = Welcomed();
        raw.Pages(1, 1, w =>
        {
            w.U64(PageRecord.Header(2, PageRecordKind.Xbzrle));
            w.U16(PageSize.Bytes + 1);
        });
        Assert.Contains($"Xbzrle page record 0 of pass 1 claims {PageSize.Bytes + 1} bytes", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_compressed_record_whose_capability_was_not_negotiated()
    {
        using var raw = Welcomed(offered: ProtocolCapability.Verify);
        raw.Pages(1, 1, w =>
        {
            w.U64(PageRecord.Header(2, PageRecordKind.Zstd));
            w.U16(4);
            w.U32(0);
        });
        Assert.Contains("page record 0 of pass 1 is Zstd, a capability that was not negotiated", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_PassEnd_that_miscounts_its_records()
    {
        using var raw = Welcomed();
        raw.Pages(1, 1, w => w.U64(PageRecord.Header(2, PageRecordKind.Zero)));
        raw.Send(MessageType.PassEnd, new PassEndMessage(1, 5).Write);
        Assert.Contains("PassEnd for pass 1 on channel 0 claims 5 page records, 1 arrived", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_source_that_closes_in_the_middle_of_a_frame()
    {
        using var raw = Welcomed();
        var header = new byte[Frame.HeaderSize];
        Frame.WriteHeader(header, MessageType.Pages, new byte[5000]);
        raw.Stream.Write([.. header, .. new byte[100]]);
        raw.Stream.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        Assert.Contains("in the middle of a Pages payload (100 of 5000 bytes)", raw.ExpectRejection().Text);
    }
}
