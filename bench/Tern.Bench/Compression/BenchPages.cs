using Tern.Memory;

namespace Tern.Bench.Compression;

/// <summary>Page contents for the benchmarks, deterministic per seed.</summary>
public static class BenchPages
{
    public const string GuestLike = "guest-like";
    public const string TextLike = "text-like";
    public const string Random = "random";

    /// <summary><paramref name="count"/> contiguous pages of one kind.</summary>
    public static byte[] Make(string kind, int count, int seed = 1)
    {
        var pages = new byte[count * PageSize.Bytes];
        var rng = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var page = pages.AsSpan(i * PageSize.Bytes, PageSize.Bytes);
            switch (kind)
            {
                case GuestLike:
                    // Mostly zero with a few words set: a freshly touched heap or page-table page.
                    for (var w = 0; w < 12; w++)
                        BitConverter.TryWriteBytes(page[(rng.Next(PageSize.Bytes / 8) * 8)..], 0xFFFF_8880_0000_0000UL | (ulong)rng.NextInt64(1L << 32));
                    break;
                case TextLike:
                    var offset = 0;
                    while (offset < page.Length)
                    {
                        var line = $"{rng.Next(100000)} INFO request /api/v1/items/{rng.Next(5000)} took {rng.Next(900)} ms\n";
                        var n = System.Text.Encoding.ASCII.GetBytes(line, page[offset..]);
                        offset += n;
                        if (page.Length - offset < 80) break;
                    }
                    break;
                case Random:
                    rng.NextBytes(page);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
            }
        }
        return pages;
    }
}
