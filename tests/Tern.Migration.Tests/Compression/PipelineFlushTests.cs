using Tern.Memory;
using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class PipelineFlushTests
{
    [Fact]
    public void Flush_hands_on_every_submitted_page_and_nothing_after()
    {
        using var gate = new ManualResetEventSlim(false);
        var handled = new List<PageIndex>();
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = 2, QueueDepth = 4 }, () => new GatedCodec(gate), page => handled.Add(page.Page));
        for (var i = 0; i < 6; i++) pipeline.Submit(new PageIndex((ulong)i), TestPages.Structured(i));

        Assert.Equal(0, pipeline.DrainReady()); // nothing is finished while the gate is shut, and DrainReady does not wait
        Assert.Equal(6, pipeline.InFlight);
        gate.Set();
        pipeline.Flush();

        Assert.Equal(0, pipeline.InFlight);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => new PageIndex((ulong)i)), handled);
        pipeline.Flush(); // a flush with nothing in flight returns at once
        Assert.Equal(6, handled.Count);
    }

    [Fact]
    public void DrainReady_eventually_hands_on_finished_pages_without_flush()
    {
        var handled = 0;
        using var pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = 2 }, _ => handled++);
        for (var i = 0; i < 8; i++) pipeline.Submit(new PageIndex((ulong)i), TestPages.Structured(i));
        Assert.True(SpinWait.SpinUntil(() => { pipeline.DrainReady(); return handled == 8; }, TimeSpan.FromSeconds(30)));
    }
}
