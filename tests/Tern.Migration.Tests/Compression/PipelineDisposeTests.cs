using Tern.Memory;
using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class PipelineDisposeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void Dispose_with_pages_in_flight_stops_without_finishing_them()
    {
        var handled = 0;
        // 5 ms per page x 4 workers x 64 queued: finishing them all would take about 320 ms per worker.
        var pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = 4, QueueDepth = 64 }, () => new FaultyCodec(delayMs: 5), _ => handled++);
        for (var i = 0; i < 256; i++) pipeline.Submit(new PageIndex((ulong)i), TestPages.Structured(i));

        Assert.True(TestThread.Start(pipeline.Dispose).Finish(Patience), "Dispose hung");
        Assert.Throws<ObjectDisposedException>(() => pipeline.Submit(new PageIndex(999), TestPages.Structured(0)));
        pipeline.Dispose(); // twice is fine
    }

    [Fact]
    public void Dispose_of_idle_pipelines_returns_promptly()
    {
        for (var i = 0; i < 20; i++)
        {
            var compress = new CompressionPipeline(new CompressionPipelineOptions { Workers = 2 }, _ => { });
            var decompress = new DecompressionPipeline(new DecompressionPipelineOptions { Workers = 2 }, (_, _) => { });
            if (i % 2 == 0) Thread.Sleep(5); // let the workers park on some rounds
            Assert.True(TestThread.Start(() => { compress.Dispose(); decompress.Dispose(); }).Finish(Patience), "Dispose hung");
        }
    }

    [Fact]
    public void A_codec_that_cannot_be_made_fails_the_constructor()
    {
        var made = 0;
        var e = Assert.Throws<ArgumentException>(() => new CompressionPipeline(new CompressionPipelineOptions { Workers = 4 }, () =>
        {
            if (++made == 3) throw new ArgumentException("no such codec");
            return PageCodecFactory.Create("zstd", 1);
        }, _ => { }));
        Assert.Equal("no such codec", e.Message);
    }
}
