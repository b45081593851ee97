using Xunit;
using Tern.Os.Native;

namespace Tern.Kvm.Tests.Native;

public sealed class ZlibBindingTests
{
    [Fact]
    public void Round_trips_while_switching_levels_on_one_stream()
    {
        using var compressor = new ZlibCompressor();
        using var decompressor = new ZlibDecompressor();
        var input = NativeTestData.Text(NativeTestData.Page);
        foreach (var level in new[] { 1, 6, 9, 1 })
        {
            var stream = new byte[NativeTestData.Page + 64];
            var length = compressor.Compress(input, stream, level);
            var output = new byte[NativeTestData.Page];
            var result = decompressor.Decompress(stream.AsSpan(0, length), output);
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal(input, output);
        }
    }

    [Fact]
    public void Incompressible_input_does_not_fit_a_smaller_destination_and_the_stream_recovers()
    {
        using var compressor = new ZlibCompressor();
        Assert.False(compressor.TryCompress(NativeTestData.Random(NativeTestData.Page, 5), new byte[NativeTestData.Page - 128], 1, out _));
        Assert.True(compressor.TryCompress(new byte[NativeTestData.Page], new byte[NativeTestData.Page], 1, out var written));
        Assert.InRange(written, 1, 64);
    }

    [Fact]
    public void Levels_outside_1_to_9_are_rejected()
    {
        using var compressor = new ZlibCompressor();
        Assert.Throws<ArgumentOutOfRangeException>(() => compressor.Compress(new byte[16], new byte[64], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => compressor.Compress(new byte[16], new byte[64], 10));
    }

    [Fact]
    public void Corrupt_truncated_long_short_and_trailing_input_fail_with_a_reason()
    {
        using var compressor = new ZlibCompressor();
        using var decompressor = new ZlibDecompressor();
        var stream = new byte[256];
        var length = compressor.Compress(new byte[100], stream, 1);
        var valid = stream[..length];

        Assert.Equal("zlib: decompressed 100 bytes, expected 4096", decompressor.Decompress(valid, new byte[NativeTestData.Page]).Error);
        Assert.Contains("more than the expected 50 bytes", decompressor.Decompress(valid, new byte[50]).Error);
        Assert.Contains("input ends before the end", decompressor.Decompress(valid.AsSpan(0, length - 3), new byte[100]).Error);
        Assert.Contains("trailing data", decompressor.Decompress([.. valid, 1, 2, 3], new byte[100]).Error);
        var corrupt = (byte[])valid.Clone();
        corrupt[^1] ^= 0xFF; // the Adler-32 trailer
        Assert.Equal("zlib: incorrect data check", decompressor.Decompress(corrupt, new byte[100]).Error);
        Assert.Equal("zlib: incorrect header check", decompressor.Decompress(NativeTestData.Random(64, 6), new byte[100]).Error);
        // The stream is still usable after all those failures.
        Assert.True(decompressor.Decompress(valid, new byte[100]).Succeeded);
    }
}
