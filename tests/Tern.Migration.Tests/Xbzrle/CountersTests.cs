using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Counters add up like QEMU's, and rates cover only the interval since the previous snapshot.</summary>
public class CountersTests
{
    [Fact]
    public void SnapshotReportsTotalsAndIntervalRates()
    {
        var counters = new XbzrleCounters();
        for (int i = 0; i < 3; i++) counters.RecordHit();
        counters.RecordMiss();
        counters.RecordEncodedPage(100 + XbzrleCounters.QemuHeaderBytes);
        counters.RecordEncodedPage(200 + XbzrleCounters.QemuHeaderBytes);
        counters.RecordOverflow();

        var first = counters.Snapshot(64 << 20);
        Assert.Equal(64UL << 20, first.CacheSize);
        Assert.Equal(2, first.Pages);
        Assert.Equal(306 + 4096, first.Bytes);
        Assert.Equal(1, first.CacheMiss);
        Assert.Equal(1, first.Overflow);
        Assert.Equal(0.25, first.CacheMissRate);
        Assert.Equal(2.0 * 4096 / (306 + 4096), first.EncodingRate, 10);

        // Next interval: only misses, no encodings: the encoding rate keeps its last measured value.
        counters.RecordMiss();
        counters.RecordMiss();
        var second = counters.Snapshot(64 << 20);
        Assert.Equal(1.0, second.CacheMissRate);
        Assert.Equal(first.EncodingRate, second.EncodingRate);
        Assert.Equal(3, second.CacheMiss);
        Assert.Equal(2, second.Pages);

        // An empty interval (a tiny final pass) keeps the last measured rates rather than reporting zeros.
        var third = counters.Snapshot(64 << 20);
        Assert.Equal(second.CacheMissRate, third.CacheMissRate);
        Assert.Equal(first.EncodingRate, third.EncodingRate);
    }

    [Fact]
    public void ConcurrentIncrementsAreNotLost()
    {
        var counters = new XbzrleCounters();
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                counters.RecordMiss();
                counters.RecordEncodedPage(10);
            }
        });
        Assert.Equal(80_000, counters.Misses);
        Assert.Equal(80_000, counters.Lookups);
        Assert.Equal(800_000, counters.Bytes);
    }
}
