using Tern.Memory;
using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class CompressionCountersTests
{
    [Fact]
    public void Rates_cover_the_interval_since_the_previous_snapshot_and_totals_accumulate()
    {
        var counters = new CompressionCounters();
        Assert.Equal(0, counters.Snapshot().CompressionRate);

        for (var i = 0; i < 4; i++) counters.RecordOffered();
        counters.RecordBusy();
        counters.RecordCompressed(1024);
        counters.RecordCompressed(1024);
        counters.RecordSentWhole();
        var first = counters.Snapshot();
        Assert.Equal(3, first.Pages);
        Assert.Equal(1, first.Busy);
        Assert.Equal(0.25, first.BusyRate);
        Assert.Equal(2048 + PageSize.Bytes, first.CompressedSize);
        Assert.Equal(3.0 * PageSize.Bytes / (2048 + PageSize.Bytes), first.CompressionRate);
        Assert.Same(first, counters.Latest);

        counters.RecordOffered();
        counters.RecordCompressed(512);
        var second = counters.Snapshot();
        Assert.Equal(4, second.Pages);
        Assert.Equal(0, second.BusyRate);
        Assert.Equal(8.0, second.CompressionRate); // 4096 / 512 over this interval only
        Assert.Equal(2048 + PageSize.Bytes + 512, second.CompressedSize);

        // An interval with nothing compressed (a tiny final pass) keeps the last measured rates.
        var third = counters.Snapshot();
        Assert.Equal(8.0, third.CompressionRate);
        Assert.Equal(0, third.BusyRate);
    }

    [Fact]
    public void The_pipeline_counts_zero_pages_as_highly_compressed()
    {
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions(), _ => { });
        for (var i = 0; i < 100; i++) pipeline.Submit(new PageIndex((ulong)i), new byte[PageSize.Bytes]);
        pipeline.Flush();
        var stats = pipeline.Counters.Snapshot();
        Assert.Equal(100, stats.Pages);
        Assert.Equal(0, pipeline.Counters.SentWhole);
        Assert.True(stats.CompressionRate > 100, $"compression-rate {stats.CompressionRate}");
    }

    [Fact]
    public void A_pipeline_that_replaces_another_adds_to_its_counters()
    {
        // What the migration does when the method, level or thread count changes: the totals carry on.
        var counters = new CompressionCounters();
        using (var first = new CompressionPipeline(new CompressionPipelineOptions { Codec = new PageCodecOptions("zstd", 1) }, _ => { }, counters))
        {
            for (var i = 0; i < 30; i++) first.Submit(new PageIndex((ulong)i), new byte[PageSize.Bytes]);
            first.Flush();
        }
        Assert.Equal(30, counters.Snapshot().Pages);
        using (var second = new CompressionPipeline(new CompressionPipelineOptions { Codec = new PageCodecOptions("lz4", 1), Workers = 1 }, _ => { }, counters))
        {
            Assert.Same(counters, second.Counters);
            for (var i = 0; i < 20; i++) second.Submit(new PageIndex((ulong)i), new byte[PageSize.Bytes]);
            second.Flush();
        }
        var stats = counters.Snapshot();
        Assert.Equal(50, stats.Pages);
        Assert.Equal(50, counters.Offered);
    }
}
