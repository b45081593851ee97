using Xunit;
using Tern.Os.Native;

namespace Tern.Kvm.Tests.Native;

public sealed class Lz4BindingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(12)]
    public void Round_trips_and_each_block_is_independent(int level)
    {
        using var compressor = new Lz4Compressor();
        var inputs = new[] { NativeTestData.Text(NativeTestData.Page), new byte[NativeTestData.Page], NativeTestData.Text(NativeTestData.Page) };
        var blocks = inputs.Select(input =>
        {
            var block = new byte[NativeTestData.Page + 64];
            var length = compressor.Compress(input, block, level);
            return block[..length];
        }).ToArray();

        // Decode in reverse order with a fresh decompressor: no block may depend on the one compressed before it.
        using var decompressor = new Lz4Decompressor();
        for (var i = inputs.Length - 1; i >= 0; i--)
        {
            var output = new byte[NativeTestData.Page];
            var result = decompressor.Decompress(blocks[i], output);
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal(inputs[i], output);
        }
    }

    [Fact]
    public void Incompressible_input_does_not_fit_a_smaller_destination()
    {
        using var compressor = new Lz4Compressor();
        Assert.False(compressor.TryCompress(NativeTestData.Random(NativeTestData.Page, 4), new byte[NativeTestData.Page - 128], 1, out _));
        Assert.False(compressor.TryCompress(NativeTestData.Random(NativeTestData.Page, 4), new byte[NativeTestData.Page - 128], 9, out _));
    }

    [Fact]
    public void Levels_outside_1_to_12_are_rejected()
    {
        using var compressor = new Lz4Compressor();
        Assert.Throws<ArgumentOutOfRangeException>(() => compressor.Compress(new byte[16], new byte[64], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => compressor.Compress(new byte[16], new byte[64], 13));
    }

    [Fact]
    public void Malformed_and_short_blocks_fail_with_a_reason()
    {
        using var compressor = new Lz4Compressor();
        using var decompressor = new Lz4Decompressor();
        var block = new byte[256];
        var length = compressor.Compress(new byte[100], block, 1);

        var shorter = decompressor.Decompress(block.AsSpan(0, length), new byte[NativeTestData.Page]);
        Assert.Equal("lz4: decompressed 100 bytes, expected 4096", shorter.Error);

        var longer = decompressor.Decompress(block.AsSpan(0, length), new byte[50]);
        Assert.False(longer.Succeeded);
        Assert.StartsWith("lz4: malformed block", longer.Error);

        Assert.False(decompressor.Decompress(block.AsSpan(0, length - 1), new byte[100]).Succeeded);
    }
}
