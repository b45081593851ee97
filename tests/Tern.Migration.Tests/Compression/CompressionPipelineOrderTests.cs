using Tern.Memory;
using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class CompressionPipelineOrderTests
{
    [Theory]
    [InlineData(1, "zstd")]
    [InlineData(2, "zstd")]
    [InlineData(4, "zstd")]
    [InlineData(2, "lz4")]
    [InlineData(4, "zlib")]
    public void Thousands_of_pages_come_out_in_order_and_byte_exact(int workers, string method)
    {
        const int count = 3000;
        var results = new List<CollectedPage>(count);
        var options = new CompressionPipelineOptions { Workers = workers, QueueDepth = 8, Codec = new PageCodecOptions(method, 1) };
        using (var pipeline = new CompressionPipeline(options, page => results.Add(CollectedPage.Of(page))))
        {
            for (var i = 0; i < count; i++) Assert.Equal(SubmitResult.Queued, pipeline.Submit(new PageIndex((ulong)i * 3), TestPages.Mixed(i)));
            pipeline.Flush();
            Assert.Equal(0, pipeline.InFlight);
            Assert.Equal(count, pipeline.Counters.Pages);
        }

        Assert.Equal(Enumerable.Range(0, count).Select(i => new PageIndex((ulong)i * 3)), results.Select(r => r.Page));
        using var codec = PageCodecFactory.Create(method, 1);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(TestPages.Mixed(i), results[i].Decode(codec));
            Assert.Equal(TestPages.Mixed(i), results[i].Original);
        }
        // Random pages are sent whole; the others compress.
        Assert.All(results.Where((_, i) => i % 4 == 0), r => Assert.False(r.IsCompressed));
        Assert.All(results.Where((_, i) => i % 4 != 0), r => Assert.True(r.IsCompressed));
    }

    [Fact]
    public void Results_reach_the_handler_while_submitting_not_only_on_flush()
    {
        var handled = 0;
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = 2, QueueDepth = 2 }, _ => handled++);
        // 2 workers x depth 2: the fifth page cannot be queued before earlier results are handed on.
        for (var i = 0; i < 100; i++) pipeline.Submit(new PageIndex((ulong)i), TestPages.Structured(i));
        Assert.True(handled >= 96, $"only {handled} results were handed on during submission");
        Assert.True(pipeline.InFlight <= 4);
        pipeline.Flush();
        Assert.Equal(100, handled);
    }

    [Fact]
    public void Idle_workers_that_went_to_sleep_wake_for_new_pages()
    {
        var handled = new List<PageIndex>();
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = 2 }, page => handled.Add(page.Page));
        for (var round = 0; round < 5; round++)
        {
            pipeline.Submit(new PageIndex((ulong)round * 2), TestPages.Structured(round));
            pipeline.Submit(new PageIndex((ulong)round * 2 + 1), TestPages.Structured(round));
            pipeline.Flush();
            Thread.Sleep(20); // long enough for the workers' spin to end and for them to park
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => new PageIndex((ulong)i)), handled);
    }

    [Fact]
    public void A_page_of_the_wrong_length_is_refused()
    {
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions(), _ => { });
        Assert.Throws<ArgumentException>(() => pipeline.Submit(new PageIndex(0), new byte[100]));
    }

    [Fact]
    public void The_handler_may_not_call_back_into_the_pipeline()
    {
        CompressionPipeline? self = null;
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = 1 }, _ => self!.Flush());
        self = pipeline;
        pipeline.Submit(new PageIndex(0), TestPages.Structured(0));
        var e = Assert.Throws<InvalidOperationException>(pipeline.Flush);
        Assert.Contains("must not call back", e.Message);
    }
}
