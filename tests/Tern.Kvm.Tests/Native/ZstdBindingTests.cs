using Xunit;
using Tern.Os.Native;

namespace Tern.Kvm.Tests.Native;

public sealed class ZstdBindingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(19)]
    public void Round_trips_through_reused_contexts(int level)
    {
        using var compressor = new ZstdCompressor();
        using var decompressor = new ZstdDecompressor();
        var frame = new byte[ZstdCompressor.CompressBound(NativeTestData.Page)];
        foreach (var input in new[] { NativeTestData.Text(NativeTestData.Page), NativeTestData.Random(NativeTestData.Page, 1), new byte[NativeTestData.Page] })
        {
            var length = compressor.Compress(input, frame, level);
            var output = new byte[NativeTestData.Page];
            var result = decompressor.Decompress(frame.AsSpan(0, length), output);
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal(input, output);
        }
    }

    [Fact]
    public void A_destination_that_is_too_small_is_reported_as_not_fitting()
    {
        using var compressor = new ZstdCompressor();
        var random = NativeTestData.Random(NativeTestData.Page, 2);

        Assert.False(compressor.TryCompress(random, new byte[NativeTestData.Page - 128], 1, out var written));
        Assert.Equal(0, written);
        var e = Assert.Throws<NativeCodecException>(() => compressor.Compress(random, new byte[100], 1));
        Assert.Equal("zstd", e.Codec);
    }

    [Fact]
    public void Levels_outside_the_library_range_are_rejected()
    {
        using var compressor = new ZstdCompressor();
        Assert.Equal(22, ZstdCompressor.MaxLevel);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => compressor.Compress(new byte[16], new byte[64], ZstdCompressor.MaxLevel + 1));
        Assert.Contains("zstd level must be between", e.Message);
    }

    [Fact]
    public void Garbage_fails_with_the_library_error_name()
    {
        using var decompressor = new ZstdDecompressor();
        var result = decompressor.Decompress(NativeTestData.Random(64, 3), new byte[NativeTestData.Page]);
        Assert.False(result.Succeeded);
        Assert.StartsWith("zstd: ", result.Error);
        Assert.Contains("Unknown frame descriptor", result.Error);
    }

    [Fact]
    public void A_frame_of_another_length_fails_either_way()
    {
        using var compressor = new ZstdCompressor();
        using var decompressor = new ZstdDecompressor();
        var frame = new byte[256];
        var length = compressor.Compress(new byte[100], frame, 1);

        var shorter = decompressor.Decompress(frame.AsSpan(0, length), new byte[NativeTestData.Page]);
        Assert.Equal("zstd: decompressed 100 bytes, expected 4096", shorter.Error);

        var longer = decompressor.Decompress(frame.AsSpan(0, length), new byte[50]);
        Assert.False(longer.Succeeded);
        Assert.Contains("more than the expected 50 bytes", longer.Error);
    }
}
