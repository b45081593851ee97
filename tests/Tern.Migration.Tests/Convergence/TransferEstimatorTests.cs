using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Convergence;

public sealed class TransferEstimatorTests
{
    [Fact]
    public void Before_any_measurement_a_dirty_page_costs_a_whole_page()
    {
        var e = new TransferEstimator();
        Assert.Equal(4104, e.WireBytesPerPage);
        Assert.Equal(0, e.BandwidthBytesPerSecond);
    }

    [Fact]
    public void The_cost_per_page_follows_what_the_encoder_actually_sent()
    {
        var e = new TransferEstimator();
        e.RecordPass(bytes: 64 << 20, elapsed: TimeSpan.FromSeconds(0.5), nonZeroPages: 16_000, nonZeroBytes: 16_000L * 4104);
        Assert.Equal(4104, e.WireBytesPerPage, 0);
        Assert.InRange(e.BandwidthBytesPerSecond, 134e6, 135e6); // 64 MiB in half a second
        // XBZRLE kicks in: pages now cost about 30 bytes; the estimate moves there within a few passes.
        for (int i = 0; i < 8; i++) e.RecordPass(1 << 20, TimeSpan.FromSeconds(0.01), 30_000, 30_000L * 30);
        Assert.True(e.WireBytesPerPage < 50, $"cost per page {e.WireBytesPerPage}");
    }

    [Fact]
    public void Passes_too_small_to_measure_keep_the_earlier_estimates()
    {
        var e = new TransferEstimator();
        e.RecordPass(64 << 20, TimeSpan.FromSeconds(1), 10_000, 10_000L * 1000);
        double bandwidth = e.BandwidthBytesPerSecond, cost = e.WireBytesPerPage;
        e.RecordPass(bytes: 100, elapsed: TimeSpan.FromMilliseconds(1), nonZeroPages: 2, nonZeroBytes: 8208);
        Assert.Equal(bandwidth, e.BandwidthBytesPerSecond);
        Assert.Equal(cost, e.WireBytesPerPage);
    }
}
