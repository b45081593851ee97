using Tern.Memory;

namespace Tern.Migration.Tests.Compression;

/// <summary>Deterministic page contents of the kinds guest memory holds.</summary>
internal static class TestPages
{
    public static readonly string[] Kinds = ["random", "zero", "repetitive", "structured"];

    public static byte[] Make(string kind, int seed) => kind switch
    {
        "random" => Random(seed),
        "zero" => new byte[PageSize.Bytes],
        "repetitive" => Repetitive(seed),
        "structured" => Structured(seed),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static byte[] Random(int seed)
    {
        var page = new byte[PageSize.Bytes];
        new Random(seed).NextBytes(page);
        return page;
    }

    /// <summary>A short pattern repeated over the page.</summary>
    public static byte[] Repetitive(int seed)
    {
        var page = new byte[PageSize.Bytes];
        var pattern = new byte[1 + seed % 13];
        new Random(seed).NextBytes(pattern);
        for (var i = 0; i < page.Length; i++) page[i] = pattern[i % pattern.Length];
        return page;
    }

    /// <summary>Guest-like: mostly zero, with an array of small structs (pointers, counters, flags).</summary>
    public static byte[] Structured(int seed)
    {
        var page = new byte[PageSize.Bytes];
        var rng = new Random(seed);
        for (var offset = 0; offset + 32 <= page.Length; offset += 64)
        {
            BitConverter.TryWriteBytes(page.AsSpan(offset), 0xFFFF_8880_0000_0000UL + (ulong)rng.Next(1 << 20) * 64);
            BitConverter.TryWriteBytes(page.AsSpan(offset + 8), rng.Next(1000));
            page[offset + 12] = (byte)(rng.Next(4));
        }
        return page;
    }

    /// <summary>A mix for pipeline tests: the page's kind depends on its index.</summary>
    public static byte[] Mixed(int index) => Make(Kinds[index % Kinds.Length], index);
}
