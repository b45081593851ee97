using Tern.Memory;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Protocol;

/// <summary>
/// The destination's page applier against hostile Pages payloads: each record is checked before use, the error names
/// the record, and nothing is written to guest RAM for a rejected record (RAM stays unpopulated).
/// </summary>
public sealed class PageRecordRejectionTests : IDisposable
{
    private const int Pages = 64;
    private readonly GuestRam ram = GuestRam.Create(Pages * PageSize.Bytes);
    private readonly ChannelDecoders decoders = new();

    private ProtocolException Reject(ProtocolCapability negotiated, uint count, Action<PayloadWriter> records)
    {
        var applier = new PageApplier(ram, new CapabilitySchedule(negotiated, new PassBarrier()), new ReceiveCounters());
        var payload = new PayloadWriter();
        payload.U32(1);
        payload.U32(count);
        records(payload);
        return Assert.Throws<ProtocolException>(() => applier.Apply(payload.WrittenSpan, decoders, out _));
    }

    private void AssertRamUntouched() => Assert.Empty(ram.PopulatedRanges());

    [Theory]
    [InlineData((ulong)Pages)]
    [InlineData((ulong)Pages + 1000)]
    [InlineData(PageRecord.IndexMask)]
    public void A_page_outside_guest_RAM_is_rejected_and_nothing_is_written(ulong page)
    {
        var e = Reject(ProtocolCapability.None, 1, w =>
        {
            w.U64(PageRecord.Header(page, PageRecordKind.Normal));
            w.Bytes(Enumerable.Repeat((byte)0xab, PageSize.Bytes).ToArray());
        });
        Assert.Equal($"page record 0 of pass 1 names page {page}, outside guest RAM ({Pages} pages)", e.Message);
        AssertRamUntouched();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(PageSize.Bytes + 1)]
    [InlineData(ushort.MaxValue)]
    public void An_XBZRLE_length_outside_one_page_is_rejected(int length)
    {
        var e = Reject(ProtocolCapability.Xbzrle, 1, w =>
        {
            w.U64(PageRecord.Header(3, PageRecordKind.Xbzrle));
            w.U16((ushort)length);
            w.Bytes(new byte[Math.Min(length, 8192)]);
        });
        Assert.Equal($"Xbzrle page record 0 of pass 1 claims {length} bytes (1 to {PageSize.Bytes} allowed)", e.Message);
        AssertRamUntouched();
    }

    [Fact]
    public void An_encoded_length_longer_than_the_payload_is_rejected()
    {
        var e = Reject(ProtocolCapability.CompressLz4, 1, w =>
        {
            w.U64(PageRecord.Header(3, PageRecordKind.Lz4));
            w.U16(100);
            w.Bytes(new byte[10]);
        });
        Assert.Contains("Pages is truncated: needed 100 more bytes", e.Message);
        AssertRamUntouched();
    }

    [Fact]
    public void An_XBZRLE_delta_that_does_not_decode_is_rejected()
    {
        var e = Reject(ProtocolCapability.Xbzrle, 1, w =>
        {
            w.U64(PageRecord.Header(3, PageRecordKind.Xbzrle));
            w.U16(3);
            w.Bytes([0xff, 0xff, 0xff]);
        });
        Assert.StartsWith("XBZRLE page record 0 of pass 1 (page 3) does not decode", e.Message);
    }

    [Theory]
    [InlineData(PageRecordKind.Zstd, ProtocolCapability.CompressZstd)]
    [InlineData(PageRecordKind.Lz4, ProtocolCapability.CompressLz4)]
    [InlineData(PageRecordKind.Zlib, ProtocolCapability.CompressZlib)]
    public void Compressed_bytes_that_do_not_decompress_to_one_page_are_rejected(PageRecordKind kind, ProtocolCapability capability)
    {
        var e = Reject(capability, 1, w =>
        {
            w.U64(PageRecord.Header(3, kind));
            w.U16(16);
            w.Bytes(Enumerable.Range(0, 16).Select(i => (byte)(i * 37 + 1)).ToArray());
        });
        Assert.StartsWith($"{kind} page record 0 of pass 1 (page 3) does not decompress", e.Message);
    }

    [Theory]
    [InlineData(PageRecordKind.Xbzrle)]
    [InlineData(PageRecordKind.Zstd)]
    [InlineData(PageRecordKind.Lz4)]
    [InlineData(PageRecordKind.Zlib)]
    public void A_record_of_a_capability_that_was_not_negotiated_is_rejected(PageRecordKind kind)
    {
        var negotiated = ProtocolCapabilities.Supported & ~(kind == PageRecordKind.Xbzrle ? ProtocolCapability.Xbzrle : PageRecord.Codec(kind)!.Value.Capability);
        var e = Reject(negotiated, 1, w =>
        {
            w.U64(PageRecord.Header(3, kind));
            w.U16(1);
            w.U8(0);
        });
        Assert.Equal($"page record 0 of pass 1 is {kind}, a capability that was not negotiated", e.Message);
        AssertRamUntouched();
    }

    [Fact]
    public void An_unknown_record_kind_is_rejected()
    {
        var e = Reject(ProtocolCapabilities.Supported, 1, w => w.U64(PageRecord.Header(3, (PageRecordKind)9)));
        Assert.Equal("page record 0 of pass 1 has unknown kind 9", e.Message);
    }

    [Fact]
    public void A_record_count_larger_than_the_records_is_rejected()
    {
        var e = Reject(ProtocolCapability.None, 3, w => w.U64(PageRecord.Header(3, PageRecordKind.Zero)));
        Assert.Contains("Pages is truncated", e.Message);
    }

    [Fact]
    public void A_truncated_normal_page_is_rejected_and_not_written()
    {
        var e = Reject(ProtocolCapability.None, 1, w =>
        {
            w.U64(PageRecord.Header(3, PageRecordKind.Normal));
            w.Bytes(new byte[PageSize.Bytes - 1]);
        });
        Assert.Equal($"Pages is truncated: needed {PageSize.Bytes} more bytes at offset 16, {PageSize.Bytes - 1} left", e.Message);
        AssertRamUntouched();
    }

    [Fact]
    public void Bytes_after_the_counted_records_are_rejected()
    {
        var e = Reject(ProtocolCapability.None, 1, w =>
        {
            w.U64(PageRecord.Header(3, PageRecordKind.Zero));
            w.U32(0);
        });
        Assert.Equal("Pages: 4 unexpected bytes after the message", e.Message);
    }

    public void Dispose()
    {
        decoders.Dispose();
        ram.Dispose();
    }
}
