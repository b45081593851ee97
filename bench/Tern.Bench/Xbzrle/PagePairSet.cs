using Tern.Memory;

namespace Tern.Bench.Xbzrle;

/// <summary>
/// 8192 page pairs, 64 MiB in all (32 MiB of old pages, 32 MiB of new), so that the data comes from memory rather
/// than the CPU's caches, as guest pages do during a migration. Seeded, so every run measures the same pages.
/// Page-aligned, as guest RAM, the source's page copy and the XBZRLE cache are (<see cref="PageArray"/>).
/// </summary>
public sealed class PagePairSet
{
    public const int PageBytes = 4096;
    public const int Pairs = 8192;

    private readonly PageArray _old = new(Pairs);
    private readonly PageArray _new = new(Pairs);

    public PagePairSet(PageChangePattern pattern, int seed = 12345)
    {
        var random = new Random(seed);
        random.NextBytes(_old.Span);
        _old.Span.CopyTo(_new.Span);
        for (int p = 0; p < Pairs; p++) Change(_new.Page(p), pattern, random);
    }

    public ReadOnlySpan<byte> OldPage(int pair) => _old.Page(pair);
    public ReadOnlySpan<byte> NewPage(int pair) => _new.Page(pair);

    /// <summary>An old page to decode into (decode benchmarks overwrite it).</summary>
    public Span<byte> WritableOldPage(int pair) => _old.Page(pair);

    public Span<byte> WritableNewPage(int pair) => _new.Page(pair);

    private static void Change(Span<byte> page, PageChangePattern pattern, Random random)
    {
        switch (pattern)
        {
            case PageChangePattern.OneByte:
                page[random.Next(PageBytes)] ^= 0xFF;
                break;
            case PageChangePattern.WordPerKiB:
                for (int kib = 0; kib < PageBytes / 1024; kib++)
                {
                    int at = kib * 1024 + random.Next(1024 / 8) * 8;
                    for (int k = 0; k < 8; k++) page[at + k] ^= 0xFF;
                }
                break;
            case PageChangePattern.Bytes64:
                for (int n = 0; n < 64; n++) page[random.Next(PageBytes)] ^= 0xFF;
                break;
            case PageChangePattern.Random10Percent:
            case PageChangePattern.Random50Percent:
                double density = pattern == PageChangePattern.Random10Percent ? 0.10 : 0.50;
                for (int i = 0; i < PageBytes; i++) if (random.NextDouble() < density) page[i] ^= (byte)random.Next(1, 256);
                break;
            case PageChangePattern.NewPage:
                random.NextBytes(page);
                break;
        }
    }
}
