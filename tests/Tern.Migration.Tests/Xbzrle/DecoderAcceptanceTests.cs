using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Encodings QEMU's encoder never writes but its decoder accepts: Tern's decoder accepts them too.</summary>
public class DecoderAcceptanceTests
{
    private static byte[] Decode(byte[] encoded, byte[] old, out XbzrleDecodeResult result)
    {
        var expected = (byte[])old.Clone();
        int qemu = QemuReference.Decode(encoded, expected);
        Assert.NotEqual(-1, qemu);
        var page = new GuardedBuffer(old);
        result = XbzrleDecoder.Decode(encoded, page.Window);
        Assert.True(result.IsSuccess, result.Describe());
        Assert.Equal(qemu, result.PageOffset);
        Assert.True(page.GuardsIntact());
        Assert.Equal(expected, page.Window.ToArray());
        return page.Window.ToArray();
    }

    [Fact]
    public void NonShortestLengths()
    {
        var old = new byte[4096];
        var page = Decode([0x85, 0x00, 0x82, 0x00, 0xAA, 0xBB], old, out var result);
        Assert.Equal(7, result.PageOffset);
        Assert.Equal(0xAA, page[5]);
        Assert.Equal(0xBB, page[6]);
    }

    [Fact]
    public void ZeroLengthFirstRunInTwoBytes()
    {
        var page = Decode([0x80, 0x00, 0x01, 0x42], new byte[4096], out _);
        Assert.Equal(0x42, page[0]);
    }

    [Fact]
    public void AWholePageOfChangedBytesLongerThanAPage()
    {
        // 00, 4096, then 4096 bytes: 4099 bytes, which QEMU's encoder never produces but its decoder takes.
        byte[] encoded = [0x00, 0x80, 0x20, .. Enumerable.Repeat((byte)0x77, 4096)];
        var page = Decode(encoded, new byte[4096], out var result);
        Assert.Equal(4096, result.PageOffset);
        Assert.All(page, b => Assert.Equal(0x77, b));
    }

    [Fact]
    public void RunsThatEndExactlyAtThePageEnd()
    {
        var old = PagePairs.RandomPage(new Random(11));
        var page = Decode([0xFF, 0x1F, 0x01, 0x99], old, out var result);
        Assert.Equal(4096, result.PageOffset);
        Assert.Equal(0x99, page[4095]);
        Assert.Equal(old.AsSpan(0, 4095).ToArray(), page.AsSpan(0, 4095).ToArray());
    }
}
