using Tern.Memory;
using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class CompressionPipelineBusyTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Full_queues_count_busy_and_hand_pages_back_when_asked_to()
    {
        using var gate = new ManualResetEventSlim(false);
        var handled = new List<PageIndex>();
        var options = new CompressionPipelineOptions { Workers = 2, QueueDepth = 2, WhenBusy = BusyPolicy.SendUncompressed };
        using var pipeline = new CompressionPipeline(options, () => new GatedCodec(gate), page => handled.Add(page.Page));

        var outcomes = Enumerable.Range(0, 10).Select(i => pipeline.Submit(new PageIndex((ulong)i), TestPages.Structured(i))).ToArray();

        // 2 workers x 2 slots hold pages 0-3; page 4's worker is full, and so is every later attempt.
        Assert.Equal(Enumerable.Repeat(SubmitResult.Queued, 4).Concat(Enumerable.Repeat(SubmitResult.Busy, 6)), outcomes);
        Assert.Equal(6, pipeline.Counters.Busy);
        Assert.Equal(10, pipeline.Counters.Offered);
        gate.Set();
        pipeline.Flush();
        Assert.Equal(Enumerable.Range(0, 4).Select(i => new PageIndex((ulong)i)), handled);
        var stats = pipeline.Counters.Snapshot();
        Assert.Equal(4, stats.Pages);
        Assert.Equal(6, stats.Busy);
        Assert.Equal(0.6, stats.BusyRate, 6);
    }

    [Fact]
    public void With_the_wait_policy_a_busy_submission_waits_and_loses_nothing()
    {
        using var gate = new ManualResetEventSlim(false);
        var handled = new List<PageIndex>();
        var options = new CompressionPipelineOptions { Workers = 2, QueueDepth = 2, WhenBusy = BusyPolicy.Wait };
        using var pipeline = new CompressionPipeline(options, () => new GatedCodec(gate), page => handled.Add(page.Page));

        // One owner thread does everything, as the migration thread would.
        var owner = TestThread.Start(() =>
        {
            for (var i = 0; i < 10; i++) Assert.Equal(SubmitResult.Queued, pipeline.Submit(new PageIndex((ulong)i), TestPages.Structured(i)));
            pipeline.Flush();
        });

        Assert.True(SpinWait.SpinUntil(() => pipeline.Counters.Busy >= 1, Patience), "the fifth submission never found its worker busy");
        Assert.True(owner.IsAlive);
        gate.Set();
        Assert.True(owner.Finish(Patience), "the owner hung");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => new PageIndex((ulong)i)), handled);
        Assert.Equal(10, pipeline.Counters.Pages);
        Assert.InRange(pipeline.Counters.Busy, 1, 6);
    }
}
