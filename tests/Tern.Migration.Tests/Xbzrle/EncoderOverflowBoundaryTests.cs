using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>
/// Encodings of 4094, 4095, 4096 and 4097 bytes, with and without an unchanged tail. Each page pair is one unchanged
/// run of <c>z</c> bytes (a 1-byte length), one changed run of <c>n</c> bytes (a 2-byte length) and a tail of
/// <c>t</c> unchanged bytes, so the encoding is exactly 3 + n bytes.
/// </summary>
public class EncoderOverflowBoundaryTests
{
    private static (byte[] Old, byte[] New) Pair(int z, int n, int t)
    {
        Assert.Equal(4096, z + n + t);
        var old = new byte[4096];
        var changed = PagePairs.WithChangedRange(old, z, n);
        return (old, changed);
    }

    private static XbzrleEncodeResult EncodeAndCheck(int z, int n, int t, out byte[] destination)
    {
        var (old, changed) = Pair(z, n, t);
        EncoderExactBytesTests.EncodeEverywhere(old, changed, out _);
        destination = new byte[4096];
        return XbzrleEncoder.Encode(old, changed, destination);
    }

    [Fact]
    public void ExactlyAPageEndingWithTheLastByteFits()
    {
        var result = EncodeAndCheck(z: 3, n: 4093, t: 0, out var encoded);
        Assert.Equal(XbzrleEncodeResult.Encoded(4096), result);
        Assert.Equal(new byte[] { 3, 0xFD, 0x1F }, encoded[..3]); // 4093 = 0x7D | 0x80, 4093 >> 7 = 31
        Assert.All(encoded[3..], b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void ExactlyAPageWithAnUnchangedTailOverflows()
    {
        Assert.Equal(XbzrleEncodeResult.Overflow, EncodeAndCheck(z: 2, n: 4093, t: 1, out _));
    }

    [Fact]
    public void CompleteAt4095EndingWithTheLastByteFits()
    {
        Assert.Equal(XbzrleEncodeResult.Encoded(4095), EncodeAndCheck(z: 4, n: 4092, t: 0, out _));
    }

    [Fact]
    public void CompleteAt4095WithAnUnchangedTailOverflows()
    {
        // QEMU's loop checks d + 2 > 4096 before it scans the tail and finds nothing left to encode.
        Assert.Equal(XbzrleEncodeResult.Overflow, EncodeAndCheck(z: 3, n: 4092, t: 1, out _));
        Assert.Equal(XbzrleEncodeResult.Overflow, EncodeAndCheck(z: 1, n: 4092, t: 3, out _));
    }

    [Fact]
    public void CompleteAt4094WithAnUnchangedTailFits()
    {
        Assert.Equal(XbzrleEncodeResult.Encoded(4094), EncodeAndCheck(z: 3, n: 4091, t: 2, out _));
        Assert.Equal(XbzrleEncodeResult.Encoded(4094), EncodeAndCheck(z: 0, n: 4091, t: 5, out _));
    }

    [Fact]
    public void CompleteAt4094EndingWithTheLastByteFits()
    {
        Assert.Equal(XbzrleEncodeResult.Encoded(4094), EncodeAndCheck(z: 5, n: 4091, t: 0, out _));
    }

    [Fact]
    public void OneByteOverAPageOverflows()
    {
        Assert.Equal(XbzrleEncodeResult.Overflow, EncodeAndCheck(z: 2, n: 4094, t: 0, out _));
    }

    [Fact]
    public void ManyShortRunsNearThePageSizeMatchQemu()
    {
        // Hundreds of runs whose encodings land within a few dozen bytes of 4096: QEMU's checks decide each one.
        var random = new Random(4096);
        var lengths = new Dictionary<int, int>();
        for (int n = 0; n < 3000; n++)
        {
            var old = PagePairs.RandomPage(random);
            int tail = n % 3 == 0 ? 0 : random.Next(1, 4);
            var changed = PagePairs.NearOverflowBoundary(old, tail, random);
            var reference = new byte[4096];
            int qemu = QemuReference.Encode(old, changed, reference);
            lengths[qemu] = lengths.GetValueOrDefault(qemu) + 1;
            EncoderExactBytesTests.EncodeEverywhere(old, changed, out _);
        }
        // The generator must actually reach both sides of the boundary for this test to mean anything.
        Assert.True(lengths.GetValueOrDefault(-1) > 100, "too few overflows generated");
        Assert.True(lengths.Where(kv => kv.Key is > 4080 and <= 4096).Sum(kv => kv.Value) > 100, "too few encodings just under a page");
    }
}
