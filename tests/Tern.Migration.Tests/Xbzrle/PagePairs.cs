namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Seeded page pairs for codec tests: random and structured changes, and pairs near the overflow boundary.</summary>
internal static class PagePairs
{
    public const int PageBytes = 4096;

    public static byte[] RandomPage(Random random)
    {
        var page = new byte[PageBytes];
        random.NextBytes(page);
        return page;
    }

    /// <summary>A copy of <paramref name="old"/> where each byte changes (to a different value) with probability <paramref name="density"/>.</summary>
    public static byte[] WithRandomChanges(byte[] old, double density, Random random)
    {
        var page = (byte[])old.Clone();
        for (int i = 0; i < page.Length; i++)
        {
            if (random.NextDouble() < density) page[i] = Different(old[i], random);
        }
        return page;
    }

    /// <summary>A copy of <paramref name="old"/> with the bytes at the given offsets changed.</summary>
    public static byte[] WithChangedBytes(byte[] old, params int[] offsets)
    {
        var page = (byte[])old.Clone();
        foreach (int o in offsets) page[o] ^= 0x5A;
        return page;
    }

    /// <summary>A copy of <paramref name="old"/> with [start, start + length) changed.</summary>
    public static byte[] WithChangedRange(byte[] old, int start, int length)
    {
        var page = (byte[])old.Clone();
        for (int i = start; i < start + length; i++) page[i] = (byte)~old[i];
        return page;
    }

    /// <summary>
    /// Alternating unchanged runs of 1 to 3 bytes and changed runs of 1 to 12, then an unchanged tail of
    /// <paramref name="tail"/> bytes: encodings land within a few dozen bytes of 4096 either way, so QEMU's overflow
    /// checks decide the outcome.
    /// </summary>
    public static byte[] NearOverflowBoundary(byte[] old, int tail, Random random)
    {
        var page = (byte[])old.Clone();
        int i = random.Next(0, 3);
        int end = PageBytes - tail;
        while (i < end)
        {
            int changed = Math.Min(random.Next(1, 13), end - i);
            for (int k = 0; k < changed; k++, i++) page[i] = Different(old[i], random);
            i += random.Next(1, 4);
        }
        return page;
    }

    /// <summary>Runs whose lengths come from a wide range, so both 1- and 2-byte lengths, long and short, appear.</summary>
    public static byte[] WithStructuredRuns(byte[] old, int maxUnchanged, int maxChanged, Random random)
    {
        var page = (byte[])old.Clone();
        int i = random.Next(0, maxUnchanged + 1);
        while (i < PageBytes)
        {
            int changed = Math.Min(random.Next(1, maxChanged + 1), PageBytes - i);
            for (int k = 0; k < changed; k++, i++) page[i] = Different(old[i], random);
            i += random.Next(1, maxUnchanged + 1);
        }
        return page;
    }

    public static byte Different(byte value, Random random) => (byte)(value ^ random.Next(1, 256));

    /// <summary>All kinds of pairs, seeded, for tests that compare implementations or round-trip.</summary>
    public static IEnumerable<(byte[] Old, byte[] New, string Kind)> Mixed(int seed, int count)
    {
        var random = new Random(seed);
        double[] densities = [0.0, 0.0002, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 1.0];
        for (int n = 0; n < count; n++)
        {
            byte[] old = n % 5 == 0 ? new byte[PageBytes] : RandomPage(random);
            switch (n % 4)
            {
                case 0:
                    double density = densities[random.Next(densities.Length)];
                    yield return (old, WithRandomChanges(old, density, random), $"random {density:P2}");
                    break;
                case 1:
                    yield return (old, NearOverflowBoundary(old, random.Next(0, 4) == 0 ? random.Next(0, 200) : random.Next(0, 4), random), "near overflow");
                    break;
                case 2:
                    int maxUnchanged = random.Next(1, 400), maxChanged = random.Next(1, 300);
                    yield return (old, WithStructuredRuns(old, maxUnchanged, maxChanged, random), $"runs up to {maxUnchanged}/{maxChanged}");
                    break;
                default:
                    int start = random.Next(0, PageBytes), length = random.Next(1, PageBytes - start + 1);
                    yield return (old, WithChangedRange(old, start, length), $"range {start}+{length}");
                    break;
            }
        }
    }
}
