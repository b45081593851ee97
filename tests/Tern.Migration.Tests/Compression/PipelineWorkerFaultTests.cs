using Tern.Memory;
using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class PipelineWorkerFaultTests
{
    [Fact]
    public void A_codec_exception_surfaces_on_the_owner_at_that_page_and_the_pipeline_goes_on()
    {
        var handled = new List<PageIndex>();
        using var gate = new ManualResetEventSlim(false);
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = 2, QueueDepth = 16 }, () => new FaultyCodec(gate: gate), page => handled.Add(page.Page));
        // With the gate shut nothing finishes during Submit, so the fault is reached by Flush. (Had it finished
        // earlier, the Submit that reached its result would have raised it instead.)
        for (var i = 0; i < 10; i++) pipeline.Submit(new PageIndex((ulong)i), i == 5 ? FaultyCodec.Poisoned() : TestPages.Structured(i));
        gate.Set();

        var e = Assert.Throws<PageWorkerException>(pipeline.Flush);

        Assert.Equal(new PageIndex(5), e.Page);
        Assert.Equal(1, e.Worker);
        Assert.IsType<InvalidOperationException>(e.InnerException);
        Assert.Contains("compress worker 1 failed on page 5: poisoned page", e.Message);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => new PageIndex((ulong)i)), handled);
        pipeline.Flush();
        Assert.Equal(9, handled.Count);
        Assert.Equal(new PageIndex(9), handled[^1]);
    }

    [Fact]
    public void A_fault_reached_while_submitting_is_raised_by_that_submission()
    {
        var handled = new List<PageIndex>();
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = 1, QueueDepth = 1 }, () => new FaultyCodec(), page => handled.Add(page.Page));
        pipeline.Submit(new PageIndex(0), FaultyCodec.Poisoned());

        // Depth 1: the next submission must hand on page 0's result first, and that is where the fault surfaces.
        var e = Assert.Throws<PageWorkerException>(() => pipeline.Submit(new PageIndex(1), TestPages.Structured(1)));
        Assert.Equal(new PageIndex(0), e.Page);
        Assert.Equal(0, pipeline.InFlight);
        Assert.Equal(SubmitResult.Queued, pipeline.Submit(new PageIndex(1), TestPages.Structured(1)));
        pipeline.Flush();
        Assert.Equal([new PageIndex(1)], handled);
    }

    [Fact]
    public void A_handler_exception_propagates_and_the_buffer_is_not_lost()
    {
        var calls = 0;
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = 1, QueueDepth = 1 }, _ =>
        {
            if (++calls == 1) throw new IOException("link down");
        });
        pipeline.Submit(new PageIndex(0), TestPages.Structured(0));
        Assert.Throws<IOException>(pipeline.Flush);
        // With a single buffer, a lost one would make the next submission fail.
        for (var i = 1; i < 5; i++) pipeline.Submit(new PageIndex((ulong)i), TestPages.Structured(i));
        pipeline.Flush();
        Assert.Equal(5, calls);
    }
}
