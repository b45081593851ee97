using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class PageCodecOptionsTests
{
    [Fact]
    public void Unknown_method_is_named_with_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => PageCodecFactory.Create("brotli", 1));
        Assert.Equal("unknown compression method 'brotli': use zstd, lz4 or zlib", e.Message);
        Assert.Throws<ArgumentException>(() => new PageCodecOptions("ZSTD", 1));
    }

    [Theory]
    [InlineData("zstd", 0, "use 1 to 22")]
    [InlineData("zstd", 23, "use 1 to 22")]
    [InlineData("lz4", 13, "use 1 to 12")]
    [InlineData("zlib", 0, "use 1 to 9")]
    [InlineData("zlib", 10, "use 1 to 9")]
    public void Bad_levels_name_the_range(string method, int level, string hint)
    {
        var e = Assert.Throws<ArgumentException>(() => PageCodecFactory.Create(method, level));
        Assert.Equal($"compress-level {level} is out of range for {method}: {hint}", e.Message);
    }

    [Theory]
    [InlineData("zstd", 22)]
    [InlineData("lz4", 12)]
    [InlineData("zlib", 9)]
    public void The_factory_makes_the_named_codec(string method, int level)
    {
        using var codec = PageCodecFactory.Create(method, level);
        Assert.Equal(method, codec.Name);
        Assert.Equal(level, codec.Level);
    }

    [Fact]
    public void Pipeline_options_reject_bad_values()
    {
        Assert.Throws<ArgumentException>(() => new CompressionPipelineOptions { Workers = 0 });
        Assert.Throws<ArgumentException>(() => new CompressionPipelineOptions { Workers = 65 });
        Assert.Throws<ArgumentException>(() => new CompressionPipelineOptions { QueueDepth = 3 });
        var e = Assert.Throws<ArgumentException>(() => new DecompressionPipelineOptions { Workers = -1 });
        Assert.Contains("decompress-threads", e.Message);
    }
}
