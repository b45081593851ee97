using Xunit;
using Tern.Os.Native;

namespace Tern.Kvm.Tests.Native;

public sealed class XxHash3Tests
{
    /// <summary>Vectors from <c>xxhsum -H3</c> (xxhash 0.8.1), seed 0.</summary>
    public static TheoryData<string, ulong> KnownVectors => new()
    {
        { "empty", 0x2D06800538D394C2 },
        { "a", 0xE6C632B61E964E1F },
        { "abc", 0x78AF5F94892F3950 },
        { "i % 251, 4096 bytes", 0x7135FFA504F1BC71 },
        { "(7i + 3) % 256, 100000 bytes", 0x0C056F6FCC340974 },
    };

    [Theory]
    [MemberData(nameof(KnownVectors))]
    public void One_shot_and_streaming_match_xxhsum(string input, ulong expected)
    {
        var data = Input(input);
        Assert.Equal(expected, XxHash3.Hash64(data));

        using var stream = new XxHash3Stream();
        stream.Update(data);
        Assert.Equal(expected, stream.Digest());
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(0x9E3779B97F4A7C15UL)]
    public void Streaming_in_uneven_pieces_equals_one_shot(ulong seed)
    {
        var data = new byte[3 * 4096 + 77];
        new Random(7).NextBytes(data);
        using var stream = new XxHash3Stream(seed);
        var offset = 0;
        foreach (var piece in new[] { 1, 63, 64, 250, 4096, 5000, 0 })
        {
            stream.Update(data.AsSpan(offset, piece));
            offset += piece;
        }
        stream.Update(data.AsSpan(offset));

        Assert.Equal(XxHash3.Hash64(data, seed), stream.Digest());
        Assert.NotEqual(XxHash3.Hash64(data, seed ^ 1), stream.Digest());
    }

    [Fact]
    public void Reset_starts_over()
    {
        using var stream = new XxHash3Stream();
        stream.Update("junk"u8);
        stream.Reset();
        stream.Update("abc"u8);
        Assert.Equal(0x78AF5F94892F3950UL, stream.Digest());
    }

    private static byte[] Input(string name) => name switch
    {
        "empty" => [],
        "a" => "a"u8.ToArray(),
        "abc" => "abc"u8.ToArray(),
        "i % 251, 4096 bytes" => Enumerable.Range(0, 4096).Select(i => (byte)(i % 251)).ToArray(),
        "(7i + 3) % 256, 100000 bytes" => Enumerable.Range(0, 100000).Select(i => (byte)((i * 7 + 3) % 256)).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}
