using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>
/// The scalar, Vector256 and Vector512 paths (the last runs in software where AVX-512 is absent) produce the same
/// result and bytes as QEMU's loop on thousands of seeded pairs of every change density.
/// </summary>
public class ImplementationEquivalenceTests
{
    [Fact]
    public void AllPathsMatchQemuOnMixedPairs()
    {
        var outcomes = new Dictionary<XbzrleEncodeStatus, int>();
        foreach (var (old, changed, kind) in PagePairs.Mixed(seed: 20240917, count: 4000))
        {
            var reference = new byte[4096];
            int qemu = QemuReference.Encode(old, changed, reference);
            foreach (var implementation in Enum.GetValues<XbzrleImplementation>())
            {
                XbzrleEncoder.Encode(ScribbleOld, ScribbleNew, new byte[4096], implementation); // see AssertAllPathsMatchQemu
                var destination = new byte[4096];
                var result = XbzrleEncoder.Encode(old, changed, destination, implementation);
                if (result.ToQemuReturnValue() != qemu)
                    Assert.Fail($"{implementation} on '{kind}': {result}, QEMU returns {qemu}");
                if (qemu > 0 && !destination.AsSpan(0, qemu).SequenceEqual(reference.AsSpan(0, qemu)))
                    Assert.Fail($"{implementation} on '{kind}': bytes differ from QEMU's");
                outcomes[result.Status] = outcomes.GetValueOrDefault(result.Status) + 1;
            }
        }
        foreach (var status in Enum.GetValues<XbzrleEncodeStatus>())
            Assert.True(outcomes.GetValueOrDefault(status) > 50, $"the pairs exercise too few {status} outcomes");
    }

    /// <summary>
    /// Every number of run boundaries one 64-byte block can hold (0 to 64), in the first, a middle and the last block,
    /// with the block before ending changed or unchanged: the vector paths write a block's positions in groups (8 or
    /// 32 at a time), so each count on either side of a group's edge must come out exact.
    /// </summary>
    [Fact]
    public void AllPathsMatchQemuForEveryBoundaryCountInABlock()
    {
        var random = new Random(64);
        var old = new byte[4096];
        random.NextBytes(old);
        foreach (int block in new[] { 0, 1, 37, 63 })
            foreach (bool previousEndsChanged in new[] { false, true })
                for (int changedBytes = 0; changedBytes <= 64; changedBytes++)
                {
                    var changed = (byte[])old.Clone();
                    // Changed bytes spread over the block so that most stand alone: up to 64 boundaries.
                    foreach (int k in Enumerable.Range(0, 64).OrderBy(_ => random.Next()).Take(changedBytes))
                        changed[block * 64 + k] = PagePairs.Different(old[block * 64 + k], random);
                    if (previousEndsChanged && block > 0) changed[block * 64 - 1] = PagePairs.Different(old[block * 64 - 1], random);
                    AssertAllPathsMatchQemu(old, changed, $"block {block}, {changedBytes} changed, previous ends changed: {previousEndsChanged}");
                }
        // The most boundaries a block can have: every second byte changed, starting with the first or the second.
        foreach (int first in new[] { 0, 1 })
        {
            var alternating = (byte[])old.Clone();
            for (int k = 64 + first; k < 128; k += 2) alternating[k] = PagePairs.Different(old[k], random);
            AssertAllPathsMatchQemu(old, alternating, $"alternating bytes from {first}");
        }
    }

    private static readonly byte[] ScribbleOld = new byte[4096];
    private static readonly byte[] ScribbleNew = Enumerable.Range(0, 4096).Select(i => (byte)(i % 3 == 0 ? 0 : 1 + i % 251)).ToArray();

    private static void AssertAllPathsMatchQemu(byte[] old, byte[] changed, string what)
    {
        var reference = new byte[4096];
        int qemu = QemuReference.Encode(old, changed, reference);
        foreach (var implementation in Enum.GetValues<XbzrleImplementation>())
        {
            // The encoder keeps its working memory between pages: fill it with another page's runs first, so that
            // a path that leaves some positions unwritten cannot pass on what the previous path left there.
            XbzrleEncoder.Encode(ScribbleOld, ScribbleNew, new byte[4096], implementation);
            var destination = new byte[4096];
            var result = XbzrleEncoder.Encode(old, changed, destination, implementation);
            if (result.ToQemuReturnValue() != qemu) Assert.Fail($"{implementation}, {what}: {result}, QEMU returns {qemu}");
            if (qemu > 0 && !destination.AsSpan(0, qemu).SequenceEqual(reference.AsSpan(0, qemu)))
                Assert.Fail($"{implementation}, {what}: bytes differ from QEMU's");
        }
    }

    [Fact]
    public void A_caller_kept_scratch_gives_the_same_encodings_as_the_threads_own()
    {
        var scratch = new XbzrleEncoderScratch();
        foreach (var (old, changed, kind) in PagePairs.Mixed(seed: 99, count: 300))
        {
            var expected = new byte[4096];
            var actual = new byte[4096];
            var viaThread = XbzrleEncoder.Encode(old, changed, expected);
            var viaScratch = XbzrleEncoder.Encode(old, changed, actual, scratch);
            Assert.Equal(viaThread, viaScratch);
            Assert.True(expected.AsSpan(0, viaThread.Length).SequenceEqual(actual.AsSpan(0, viaScratch.Length)), kind);
        }
        Assert.Throws<ArgumentNullException>(() => XbzrleEncoder.Encode(new byte[4096], new byte[4096], new byte[4096], null!));
    }

    [Fact]
    public void BestPathIsTheFastestTheHardwareAccelerates()
    {
        var best = XbzrleImplementations.Best;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) Assert.Equal(XbzrleImplementation.Vector512, best);
        else if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) Assert.Equal(XbzrleImplementation.Vector256, best);
        else Assert.Equal(XbzrleImplementation.Scalar, best);
    }

    [Fact]
    public void ScalarByteTestFlagsExactlyTheNonZeroBytes()
    {
        var random = new Random(7);
        Span<byte> bytes = stackalloc byte[8];
        for (int n = 0; n < 200_000; n++)
        {
            // Mostly bytes that stress the carry trick: 0x00, 0x80, 0x7F, 0x01, 0xFF, and random ones.
            for (int k = 0; k < 8; k++)
                bytes[k] = random.Next(6) switch { 0 => 0x00, 1 => 0x80, 2 => 0x7F, 3 => 0x01, 4 => 0xFF, _ => (byte)random.Next(256) };
            ulong word = BitConverter.ToUInt64(bytes);
            int expected = 0;
            for (int k = 0; k < 8; k++) if (bytes[k] != 0) expected |= 1 << k;
            Assert.Equal(expected, ChangeMask.NonZeroBytes(word));
        }
    }
}
