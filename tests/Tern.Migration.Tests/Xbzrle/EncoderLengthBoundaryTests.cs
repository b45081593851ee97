using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Run lengths at the ULEB128 boundaries: 127 is one byte, 128 two; 4096 (a whole page) the longest.</summary>
public class EncoderLengthBoundaryTests
{
    private static byte[] Old()
    {
        var page = new byte[4096];
        for (int i = 0; i < page.Length; i++) page[i] = (byte)(i % 251);
        return page;
    }

    [Theory]
    [InlineData(1, new byte[] { 0x01 })]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x01 })]
    [InlineData(129, new byte[] { 0x81, 0x01 })]
    [InlineData(255, new byte[] { 0xFF, 0x01 })]
    [InlineData(256, new byte[] { 0x80, 0x02 })]
    [InlineData(4095, new byte[] { 0xFF, 0x1F })]
    public void UnchangedRunLength(int unchanged, byte[] expectedLength)
    {
        var old = Old();
        var changed = PagePairs.WithChangedBytes(old, unchanged);
        byte[] expected = [.. expectedLength, 0x01, changed[unchanged]];
        Assert.Equal(expected, EncoderExactBytesTests.EncodeEverywhere(old, changed, out _));
    }

    [Theory]
    [InlineData(1, new byte[] { 0x01 })]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x01 })]
    [InlineData(300, new byte[] { 0xAC, 0x02 })]
    [InlineData(4000, new byte[] { 0xA0, 0x1F })]
    public void ChangedRunLength(int length, byte[] expectedLength)
    {
        var old = Old();
        var changed = PagePairs.WithChangedRange(old, 50, length);
        byte[] expected = [50, .. expectedLength, .. changed.AsSpan(50, length).ToArray()];
        Assert.Equal(expected, EncoderExactBytesTests.EncodeEverywhere(old, changed, out _));
    }

    [Fact]
    public void ChangedRunOfAWholePageIsTooLongForAPage()
    {
        var old = Old();
        Assert.Null(EncoderExactBytesTests.EncodeEverywhere(old, PagePairs.WithChangedRange(old, 0, 4096), out var status));
        Assert.Equal(XbzrleEncodeStatus.Overflow, status);
    }
}
