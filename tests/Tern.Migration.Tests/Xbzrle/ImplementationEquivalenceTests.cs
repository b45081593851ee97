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
