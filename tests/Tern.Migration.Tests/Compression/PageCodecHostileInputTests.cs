using Tern.Memory;
using Tern.Migration.Compression;
using Tern.Os.Native;
using Xunit;

namespace Tern.Migration.Tests.Compression;

/// <summary>
/// Decompress must fail cleanly, with a reason naming the codec, for anything that is not exactly one compressed page,
/// and must never write outside the page (checked with guard bytes on both sides).
/// </summary>
public sealed class PageCodecHostileInputTests
{
    private const int GuardLength = 256;
    private const byte Guard = 0xA5;

    public static TheoryData<string> Methods => new(PageCodecOptions.Methods);

    [Theory]
    [MemberData(nameof(Methods))]
    public void Garbage_fails(string method)
    {
        var rng = new Random(11);
        for (var length = 1; length <= PageCodecLimits.MaxCompressedLength; length = length * 3 + 1)
        {
            var garbage = new byte[length];
            rng.NextBytes(garbage);
            AssertFailsInsideGuards(method, garbage);
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Empty_and_over_long_input_fail(string method)
    {
        Assert.Contains("empty", AssertFailsInsideGuards(method, []));
        Assert.Contains("exceeds the 3968-byte limit", AssertFailsInsideGuards(method, new byte[PageCodecLimits.MaxCompressedLength + 1]));
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Truncated_and_corrupted_pages_fail(string method)
    {
        var valid = CompressPage(method, TestPages.Structured(3));
        foreach (var cut in new[] { 1, 2, 5, valid.Length / 2, valid.Length - 1 })
        {
            AssertFailsInsideGuards(method, valid.AsSpan(0, cut).ToArray());
        }
        // A flipped byte must never make the codec write outside the page (Decode checks the guards). zstd frames
        // (checksum off) and lz4 blocks may decode a flipped literal to a wrong page: end-to-end integrity is the RAM
        // digest's job. zlib's Adler-32 trailer catches flips.
        var failures = 0;
        for (var i = 0; i < valid.Length; i += 7)
        {
            var corrupt = (byte[])valid.Clone();
            corrupt[i] ^= 0x5A;
            var (result, page) = Decode(method, corrupt);
            if (!result.Succeeded) failures++;
            else if (method == "zlib") Assert.Equal(TestPages.Structured(3), page);
        }
        Assert.True(failures > 0);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void A_valid_unit_of_another_length_fails(string method)
    {
        foreach (var length in new[] { 1, 2048, PageSize.Bytes - 1, PageSize.Bytes + 1, 3 * PageSize.Bytes })
        {
            var data = new byte[length];
            data.AsSpan().Fill(7);
            var unit = CompressAnyLength(method, data);
            var reason = AssertFailsInsideGuards(method, unit);
            Assert.StartsWith($"{method}: ", reason);
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void A_unit_of_another_codec_fails(string method)
    {
        foreach (var other in PageCodecOptions.Methods.Where(m => m != method))
        {
            AssertFailsInsideGuards(method, CompressPage(other, TestPages.Structured(4)));
        }
    }

    private static string AssertFailsInsideGuards(string method, byte[] input)
    {
        var (result, _) = Decode(method, input);
        Assert.False(result.Succeeded, $"{method} accepted {input.Length} bytes of bad input");
        Assert.StartsWith($"{method}: ", result.Failure);
        return result.Failure!;
    }

    private static (PageDecompressResult Result, byte[] Page) Decode(string method, byte[] input)
    {
        using var codec = PageCodecFactory.Create(method, 1);
        var buffer = new byte[GuardLength + PageSize.Bytes + GuardLength];
        buffer.AsSpan().Fill(Guard);
        var result = codec.Decompress(input, buffer.AsSpan(GuardLength, PageSize.Bytes));
        Assert.All(buffer[..GuardLength], b => Assert.Equal(Guard, b));
        Assert.All(buffer[^GuardLength..], b => Assert.Equal(Guard, b));
        return (result, buffer[GuardLength..^GuardLength]);
    }

    private static byte[] CompressPage(string method, byte[] page)
    {
        using var codec = PageCodecFactory.Create(method, 1);
        var compressed = new byte[PageCodecLimits.MaxCompressedLength];
        var result = codec.Compress(page, compressed);
        Assert.True(result.IsCompressed);
        return compressed[..result.Length];
    }

    /// <summary>A well-formed unit of the codec for data that is not one page long, made with the Os bindings.</summary>
    private static byte[] CompressAnyLength(string method, byte[] data)
    {
        var output = new byte[data.Length + 1024];
        int length;
        switch (method)
        {
            case "zstd":
                using (var zstd = new ZstdCompressor()) length = zstd.Compress(data, output, 1);
                break;
            case "lz4":
                using (var lz4 = new Lz4Compressor()) length = lz4.Compress(data, output, 1);
                break;
            default:
                using (var zlib = new ZlibCompressor()) length = zlib.Compress(data, output, 1);
                break;
        }
        return output[..length];
    }
}
