using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>
/// Random and mutated encodings: the decoder never throws, never writes outside the page, accepts and rejects
/// exactly what QEMU's decoder does, and leaves the page as QEMU's would (runs before an error are applied).
/// </summary>
public class DecoderGarbageTests
{
    [Fact]
    public void RandomBytes()
    {
        var random = new Random(17);
        for (int n = 0; n < 20_000; n++)
        {
            var encoded = new byte[random.Next(0, n % 10 == 0 ? 5000 : 40)];
            random.NextBytes(encoded);
            // Lengths of small values, so some garbage gets past the first run.
            for (int k = 0; k < encoded.Length; k++) if (random.Next(3) == 0) encoded[k] &= 0x0F;
            CheckAgainstQemu(encoded, random);
        }
    }

    [Fact]
    public void MutatedValidEncodings()
    {
        var random = new Random(23);
        int rejected = 0;
        foreach (var (old, changed, _) in PagePairs.Mixed(seed: 31, count: 2000))
        {
            var buffer = new byte[4096];
            var result = XbzrleEncoder.Encode(old, changed, buffer);
            if (result.Status != XbzrleEncodeStatus.Encoded) continue;
            var encoded = buffer[..result.Length];
            switch (random.Next(4))
            {
                case 0: encoded[random.Next(encoded.Length)] ^= (byte)random.Next(1, 256); break;
                case 1: encoded = encoded[..random.Next(encoded.Length)]; break;
                case 2: encoded = [.. encoded, .. new byte[random.Next(1, 4)]]; break;
                default: encoded[random.Next(encoded.Length)] = (byte)(0x80 | random.Next(128)); break;
            }
            if (!CheckAgainstQemu(encoded, random, old)) rejected++;
        }
        Assert.True(rejected > 300, $"only {rejected} mutations were rejected: the test is not exercising errors");
    }

    /// <returns>Whether the encoding was accepted.</returns>
    private static bool CheckAgainstQemu(byte[] encoded, Random random, byte[]? old = null)
    {
        old ??= PagePairs.RandomPage(random);
        var expected = (byte[])old.Clone();
        int qemu = QemuReference.Decode(encoded, expected);

        // Put the input inside a larger buffer of noise, so reading past its end would change the outcome.
        var input = new byte[encoded.Length + 64];
        random.NextBytes(input);
        encoded.CopyTo(input, 0);

        foreach (bool vectorCopies in new[] { false, true })
        {
            var page = new GuardedBuffer(old);
            var result = XbzrleDecoder.Decode(input.AsSpan(0, encoded.Length), page.Window, vectorCopies);
            Assert.True(page.GuardsIntact(), "wrote outside the page");
            Assert.Equal(qemu != -1, result.IsSuccess);
            if (result.IsSuccess) Assert.Equal(qemu, result.PageOffset);
            else Assert.InRange(result.InputOffset, 0, encoded.Length);
            if (!page.Window.SequenceEqual(expected)) Assert.Fail($"page differs from QEMU's after: {result.Describe()}");
        }
        return qemu != -1;
    }
}
