using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>
/// The decoder's run copies (RunCopy, whose vector width the JIT fixes at start-up) and a plain span copy give the
/// same page and the same result, on valid encodings of every change density and on garbage.
/// </summary>
public class DecoderCopyEquivalenceTests
{
    [Fact]
    public void RunCopiesAndPlainCopiesDecodeAlike()
    {
        var encoded = new byte[4096];
        int decoded = 0;
        foreach (var (old, changed, kind) in PagePairs.Mixed(seed: 77, count: 3000))
        {
            var result = XbzrleEncoder.Encode(old, changed, encoded);
            if (result.Status != XbzrleEncodeStatus.Encoded) continue;
            var fast = (byte[])old.Clone();
            var plain = (byte[])old.Clone();
            var a = XbzrleDecoder.Decode(encoded.AsSpan(0, result.Length), fast, useVectorCopies: true);
            var b = XbzrleDecoder.Decode(encoded.AsSpan(0, result.Length), plain, useVectorCopies: false);
            Assert.True(a.IsSuccess && b.IsSuccess, $"'{kind}': {a.Describe()} / {b.Describe()}");
            Assert.True(fast.AsSpan().SequenceEqual(changed), $"'{kind}': the run copies did not rebuild the page");
            Assert.True(plain.AsSpan().SequenceEqual(changed), $"'{kind}': the plain copies did not rebuild the page");
            decoded++;
        }
        Assert.True(decoded > 1000, $"only {decoded} pairs encoded");
    }

    [Fact]
    public void RunCopiesAndPlainCopiesFailAlikeOnGarbage()
    {
        var random = new Random(78);
        for (int n = 0; n < 3000; n++)
        {
            var garbage = new byte[random.Next(1, 600)];
            random.NextBytes(garbage);
            var fast = new byte[4096];
            var plain = new byte[4096];
            var a = XbzrleDecoder.Decode(garbage, fast, useVectorCopies: true);
            var b = XbzrleDecoder.Decode(garbage, plain, useVectorCopies: false);
            Assert.Equal(b, a);
            Assert.True(fast.AsSpan().SequenceEqual(plain), "the two copies left different bytes in the page");
        }
    }
}
