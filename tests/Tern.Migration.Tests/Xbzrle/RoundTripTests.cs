using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Whatever encodes decodes, on top of the old page, to the new page.</summary>
public class RoundTripTests
{
    [Fact]
    public void EncodeThenDecodeRestoresTheNewPage()
    {
        int decoded = 0;
        foreach (var (old, changed, kind) in PagePairs.Mixed(seed: 99, count: 3000))
        {
            var encoded = new byte[4096];
            var result = XbzrleEncoder.Encode(old, changed, encoded);
            if (result.Status == XbzrleEncodeStatus.Overflow) continue;

            foreach (bool vectorCopies in new[] { false, true })
            {
                var page = (byte[])old.Clone();
                var outcome = XbzrleDecoder.Decode(encoded.AsSpan(0, result.Length), page, vectorCopies);
                Assert.True(outcome.IsSuccess, $"'{kind}': {outcome.Describe()}");
                if (!page.AsSpan().SequenceEqual(changed)) Assert.Fail($"'{kind}' did not round-trip (vector copies: {vectorCopies})");
            }
            decoded++;
        }
        Assert.True(decoded > 1500, $"only {decoded} pairs fitted in a page");
    }

    [Fact]
    public void SparseStructuredPagesRoundTrip()
    {
        var random = new Random(5);
        for (int n = 0; n < 500; n++)
        {
            var old = PagePairs.RandomPage(random);
            var changed = PagePairs.WithStructuredRuns(old, maxUnchanged: 600, maxChanged: 40, random);
            var encoded = new byte[4096];
            var result = XbzrleEncoder.Encode(old, changed, encoded);
            Assert.Equal(XbzrleEncodeStatus.Encoded, result.Status);
            var page = (byte[])old.Clone();
            Assert.True(XbzrleDecoder.Decode(encoded.AsSpan(0, result.Length), page).IsSuccess);
            Assert.Equal(changed, page);
        }
    }

    [Fact]
    public void EmptyEncodingLeavesThePageAsItWas()
    {
        var page = PagePairs.RandomPage(new Random(1));
        var before = (byte[])page.Clone();
        var outcome = XbzrleDecoder.Decode(ReadOnlySpan<byte>.Empty, page);
        Assert.True(outcome.IsSuccess);
        Assert.Equal(0, outcome.PageOffset);
        Assert.Equal(before, page);
    }
}
