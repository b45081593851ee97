using Tern.Migration.Xbzrle;

namespace Tern.Bench.Xbzrle;

/// <summary>
/// One pass over every pair of a <see cref="PagePairSet"/> with each method the XBZRLE benchmarks compare; shared by
/// the BenchmarkDotNet suite and the interleaved macro benchmark so that both measure the same loops.
/// </summary>
public static class PagePairLoops
{
    /// <summary>Reads both pages of every pair: the floor for any encoder.</summary>
    public static int ReadBound(PagePairSet pairs)
    {
        int differ = 0;
        for (int p = 0; p < PagePairSet.Pairs; p++) if (MemoryReadBound.Differ(pairs.OldPage(p), pairs.NewPage(p))) differ++;
        return differ;
    }

    public static int QemuPort(PagePairSet pairs, byte[] destination)
    {
        int total = 0;
        for (int p = 0; p < PagePairSet.Pairs; p++) total += QemuPortEncoder.Encode(pairs.OldPage(p), pairs.NewPage(p), destination);
        return total;
    }

    /// <summary>Tern's encoder with a caller-kept scratch, as the migration's sender runs it.</summary>
    public static int Tern(PagePairSet pairs, byte[] destination, XbzrleImplementation implementation, XbzrleEncoderScratch scratch)
    {
        int total = 0;
        for (int p = 0; p < PagePairSet.Pairs; p++)
            total += XbzrleEncoder.Encode(pairs.OldPage(p), pairs.NewPage(p), destination, implementation, scratch).Length;
        return total;
    }
}
