using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Hand-made page pairs whose encodings are known byte for byte (worked out from QEMU's format and loop).</summary>
public class EncoderExactBytesTests
{
    private static byte[] Zeros() => new byte[PagePairs.PageBytes];

    private static byte[] Pattern()
    {
        var page = new byte[PagePairs.PageBytes];
        for (int i = 0; i < page.Length; i++) page[i] = (byte)(i * 7 + 3);
        return page;
    }

    /// <summary>Encodes with every implementation and the QEMU transliteration, checks they agree, returns the bytes.</summary>
    internal static byte[]? EncodeEverywhere(byte[] oldPage, byte[] newPage, out XbzrleEncodeStatus status)
    {
        var reference = new byte[PagePairs.PageBytes];
        int qemu = QemuReference.Encode(oldPage, newPage, reference);
        byte[]? expected = qemu > 0 ? reference[..qemu] : null;
        status = qemu switch { 0 => XbzrleEncodeStatus.Unchanged, -1 => XbzrleEncodeStatus.Overflow, _ => XbzrleEncodeStatus.Encoded };
        foreach (var implementation in Enum.GetValues<XbzrleImplementation>())
        {
            var destination = new byte[PagePairs.PageBytes];
            var result = XbzrleEncoder.Encode(oldPage, newPage, destination, implementation);
            Assert.Equal(qemu, result.ToQemuReturnValue());
            if (expected is not null) Assert.Equal(expected, destination[..result.Length]);
        }
        var viaPublicApi = XbzrleEncoder.Encode(oldPage, newPage, new byte[PagePairs.PageBytes]);
        Assert.Equal(qemu, viaPublicApi.ToQemuReturnValue());
        return expected;
    }

    [Fact]
    public void UnchangedPageEncodesToNothing()
    {
        var page = Pattern();
        var result = XbzrleEncoder.Encode(page, (byte[])page.Clone(), new byte[4096]);
        Assert.Equal(XbzrleEncodeStatus.Unchanged, result.Status);
        Assert.Equal(0, result.Length);
        Assert.Equal(0, result.ToQemuReturnValue());
        Assert.Null(EncodeEverywhere(page, (byte[])page.Clone(), out var status));
        Assert.Equal(XbzrleEncodeStatus.Unchanged, status);
    }

    [Fact]
    public void FirstByteChangedStartsWithAZeroLengthUnchangedRun()
    {
        var old = Zeros();
        var changed = (byte[])old.Clone();
        changed[0] = 0xAA;
        Assert.Equal(new byte[] { 0x00, 0x01, 0xAA }, EncodeEverywhere(old, changed, out _));
    }

    [Fact]
    public void OneByteInTheMiddle()
    {
        var old = Pattern();
        var changed = (byte[])old.Clone();
        changed[2000] = 0x55;
        // 2000 = 0b1111_1010000: low 7 bits 0x50 with the continuation bit (0xD0), then 2000 >> 7 = 0x0F.
        Assert.Equal(new byte[] { 0xD0, 0x0F, 0x01, 0x55 }, EncodeEverywhere(old, changed, out _));
    }

    [Fact]
    public void LastByteChanged()
    {
        var old = Pattern();
        var changed = (byte[])old.Clone();
        changed[4095] = 0x00;
        // 4095 = 0xFFF: 0x7F | 0x80, then 4095 >> 7 = 0x1F. No unchanged run follows.
        Assert.Equal(new byte[] { 0xFF, 0x1F, 0x01, 0x00 }, EncodeEverywhere(old, changed, out _));
    }

    [Fact]
    public void TwoRunsCarryTheNewBytesNotTheXor()
    {
        var old = Pattern();
        var changed = (byte[])old.Clone();
        changed[10] = 0x11; changed[11] = 0x22;
        changed[20] = 0x33;
        Assert.Equal(new byte[] { 10, 2, 0x11, 0x22, 8, 1, 0x33 }, EncodeEverywhere(old, changed, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void EverySecondByteChangedOverflows(int first)
    {
        var old = Pattern();
        var changed = (byte[])old.Clone();
        for (int i = first; i < changed.Length; i += 2) changed[i] ^= 0xFF;
        Assert.Null(EncodeEverywhere(old, changed, out var status));
        Assert.Equal(XbzrleEncodeStatus.Overflow, status);
        Assert.Equal(XbzrleEncodeStatus.Overflow, XbzrleEncoder.Encode(old, changed, new byte[4096]).Status);
    }

    [Fact]
    public void ZeroPageAgainstAFullyDifferentPageOverflows()
    {
        // 00, then 4096 as 0x80 0x20, then 4096 bytes: 4099 bytes, one page is not enough.
        var old = Zeros();
        var changed = new byte[4096];
        Array.Fill(changed, (byte)0x01);
        Assert.Null(EncodeEverywhere(old, changed, out var status));
        Assert.Equal(XbzrleEncodeStatus.Overflow, status);
    }

    [Fact]
    public void PageThatBecomesZeroCarriesZeroBytes()
    {
        var old = Zeros();
        for (int i = 100; i < 200; i++) old[i] = 0xFF;
        var expected = new byte[102];
        expected[0] = 100;
        expected[1] = 100;
        Assert.Equal(expected, EncodeEverywhere(old, Zeros(), out _));
    }

    [Fact]
    public void ZeroPageThatGainsAFewBytes()
    {
        var old = Zeros();
        var changed = Zeros();
        changed[0] = 1; changed[1] = 2; changed[64] = 3; changed[4000] = 4;
        // 4000 - 65 = 3935 = 0x5F | 0x80, 3935 >> 7 = 30.
        Assert.Equal(new byte[] { 0, 2, 1, 2, 62, 1, 3, 0xDF, 30, 1, 4 }, EncodeEverywhere(old, changed, out _));
    }

    [Fact]
    public void RejectsBuffersThatAreNotAPage()
    {
        Assert.Throws<ArgumentException>(() => XbzrleEncoder.Encode(new byte[4095], new byte[4096], new byte[4096]));
        Assert.Throws<ArgumentException>(() => XbzrleEncoder.Encode(new byte[4096], new byte[4097], new byte[4096]));
        Assert.Throws<ArgumentException>(() => XbzrleEncoder.Encode(new byte[4096], new byte[4096], new byte[4095]));
    }
}
