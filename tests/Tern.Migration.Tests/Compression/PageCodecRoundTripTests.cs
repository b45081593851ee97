using Tern.Memory;
using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class PageCodecRoundTripTests
{
    public static TheoryData<string, int, string> Cases()
    {
        var data = new TheoryData<string, int, string>();
        foreach (var (method, levels) in new[] { ("zstd", new[] { 1, 3, 19 }), ("lz4", new[] { 1, 9 }), ("zlib", new[] { 1, 9 }) })
        {
            foreach (var level in levels)
            {
                foreach (var kind in TestPages.Kinds) data.Add(method, level, kind);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pages_round_trip_or_are_sent_whole(string method, int level, string kind)
    {
        using var codec = PageCodecFactory.Create(method, level);
        for (var seed = 0; seed < 8; seed++)
        {
            var page = TestPages.Make(kind, seed);
            var compressed = new byte[PageCodecLimits.MaxCompressedLength];

            var result = codec.Compress(page, compressed);

            if (kind == "random")
            {
                Assert.False(result.IsCompressed, $"{method} claimed to compress random data to {result.Length} bytes");
                continue;
            }
            Assert.True(result.IsCompressed);
            Assert.InRange(result.Length, 1, PageCodecLimits.MaxCompressedLength);
            using var receiver = PageCodecFactory.Create(method, level);
            var decoded = new byte[PageSize.Bytes];
            var decode = receiver.Decompress(compressed.AsSpan(0, result.Length), decoded);
            Assert.True(decode.Succeeded, decode.Failure);
            Assert.Equal(page, decoded);
        }
    }

    [Fact]
    public void Compressible_pages_shrink_a_lot()
    {
        using var codec = PageCodecFactory.Create("zstd", 1);
        var compressed = new byte[PageCodecLimits.MaxCompressedLength];
        Assert.InRange(codec.Compress(new byte[PageSize.Bytes], compressed).Length, 1, 32);
        Assert.InRange(codec.Compress(TestPages.Structured(1), compressed).Length, 1, 2048);
    }

    [Fact]
    public void Wrong_buffer_sizes_are_programming_errors()
    {
        using var codec = PageCodecFactory.Create("lz4", 1);
        Assert.Throws<ArgumentException>(() => codec.Compress(new byte[100], new byte[PageSize.Bytes]));
        Assert.Throws<ArgumentException>(() => codec.Compress(new byte[PageSize.Bytes], new byte[100]));
        Assert.Throws<ArgumentException>(() => codec.Decompress(new byte[10], new byte[100]));
    }
}
