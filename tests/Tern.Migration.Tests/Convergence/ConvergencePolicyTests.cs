using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Convergence;

public sealed class ConvergencePolicyTests
{
    private static ConvergenceSnapshot Snapshot(long remaining, double bytesPerPage, double bandwidth, double dirtyRate = 0, long limitMs = 300, long pass = 3) =>
        new(pass, remaining, bytesPerPage, bandwidth, dirtyRate, limitMs);

    [Fact]
    public void It_switches_over_when_what_is_left_fits_the_downtime_budget()
    {
        // 10,000 whole pages on a 1 GB/s link: 41 ms, for a guest that dirties 200,000 pages/s (0.8 GB/s): another
        // pass would leave 80% of it, so it stops now.
        var s = Snapshot(10_000, 4104, 1e9, dirtyRate: 200_000);
        Assert.Equal(41, ConvergencePolicy.ExpectedDowntime(s)!.Value.TotalMilliseconds, 0);
        Assert.True(ConvergencePolicy.ShouldSwitchOver(s));
        Assert.False(ConvergencePolicy.ShouldSwitchOver(s with { DowntimeLimitMs = 30 }));
    }

    [Fact]
    public void It_counts_the_bytes_that_really_go_on_the_wire_not_whole_pages()
    {
        // The case QEMU 7.2 gets wrong: 100,000 dirty pages that XBZRLE sends at 40 bytes each, on a 100 MB/s link
        // that the compressed stream fills. As whole pages that is 4.1 s of downtime; as what is really sent, 40 ms.
        var whole = Snapshot(100_000, 4104, 100e6, dirtyRate: 2_000_000);
        var real = Snapshot(100_000, 40, 100e6, dirtyRate: 2_000_000);
        Assert.False(ConvergencePolicy.ShouldSwitchOver(whole));
        Assert.True(ConvergencePolicy.ShouldSwitchOver(real));
        Assert.Equal(40, ConvergencePolicy.ExpectedDowntime(real)!.Value.TotalMilliseconds, 0);
    }

    [Fact]
    public void A_pass_that_left_as_many_dirty_pages_as_it_sent_is_not_converging_whatever_the_rates_say()
    {
        // The stride guest on a 32 MiB/s link: it rewrites its 4097 pages within every pass, so its measured dirty rate
        // is the pass's own rate, 0.1% under the link's here (noise either way).
        var s = Snapshot(4097, 4104, 33.6e6, dirtyRate: 8170) with { PagesSentInPass = 4097 };
        Assert.False(ConvergencePolicy.IsConverging(s));
        Assert.Equal("the pass sent 4097 pages and 4097 were dirty again after it", ConvergencePolicy.WhyNotConverging(s));
        // A pass that shrank the backlog is judged by the rates, and so is a snapshot that does not know the pass.
        Assert.True(ConvergencePolicy.IsConverging(s with { RemainingPages = 2000 }));
        Assert.True(ConvergencePolicy.IsConverging(s with { PagesSentInPass = 0 }));
    }

    [Fact]
    public void A_guest_dirtying_faster_than_the_link_sends_is_reported_as_not_converging()
    {
        // 50,000 pages/s of whole pages is 205 MB/s on a 100 MB/s link; as 40-byte deltas it is 2 MB/s.
        Assert.False(ConvergencePolicy.IsConverging(Snapshot(1, 4104, 100e6, dirtyRate: 50_000)));
        Assert.True(ConvergencePolicy.IsConverging(Snapshot(1, 40, 100e6, dirtyRate: 50_000)));
    }

    [Fact]
    public void Nothing_left_means_no_downtime_and_unknown_bandwidth_means_keep_going()
    {
        Assert.Equal(TimeSpan.Zero, ConvergencePolicy.ExpectedDowntime(Snapshot(0, 4104, 0)));
        Assert.True(ConvergencePolicy.ShouldSwitchOver(Snapshot(0, 4104, 0)));
        Assert.Null(ConvergencePolicy.ExpectedDowntime(Snapshot(10, 4104, 0)));
        Assert.False(ConvergencePolicy.ShouldSwitchOver(Snapshot(10, 4104, 0)));
        Assert.False(ConvergencePolicy.ShouldSwitchOver(Snapshot(0, 4104, 1e9, pass: 0)), "not before the first full pass");
    }

    [Fact]
    public void Within_the_limit_it_keeps_sending_live_while_a_pass_at_least_halves_the_stop()
    {
        // 41 ms left on a 1 GB/s link. A guest dirtying 20,000 pages/s (82 MB/s) would leave 8% of it after one more
        // pass: stopping now would cost 41 ms where the next stop costs about 3.
        var slow = Snapshot(10_000, 4104, 1e9, dirtyRate: 20_000);
        Assert.Equal(0.082, ConvergencePolicy.NextStopRatio(slow), 3);
        Assert.False(ConvergencePolicy.ShouldSwitchOver(slow));
        // Dirtying 121,000 pages/s leaves just under half: still worth it; 122,000 is just over: stop now.
        Assert.False(ConvergencePolicy.ShouldSwitchOver(slow with { DirtyPagesPerSecond = 121_000 }));
        Assert.True(ConvergencePolicy.ShouldSwitchOver(slow with { DirtyPagesPerSecond = 122_000 }));
        // An idle guest (nothing dirtied) with 41 ms left sends it live, and then stops with nothing to send.
        Assert.False(ConvergencePolicy.ShouldSwitchOver(slow with { DirtyPagesPerSecond = 0 }));
        Assert.True(ConvergencePolicy.ShouldSwitchOver(slow with { RemainingPages = 0, DirtyPagesPerSecond = 0 }));
    }

    [Fact]
    public void A_negligible_stop_is_taken_at_once()
    {
        // 1,000 pages on 1 GB/s: 4.1 ms, under the 5 ms that is not worth another pass, however little the guest dirties.
        Assert.True(ConvergencePolicy.ShouldSwitchOver(Snapshot(1_000, 4104, 1e9, dirtyRate: 10)));
        Assert.Equal(5, ConvergencePolicy.NegligibleStop(300).TotalMilliseconds);
        // With a 20 ms limit the negligible stop is 2 ms.
        Assert.Equal(2, ConvergencePolicy.NegligibleStop(20).TotalMilliseconds);
        Assert.False(ConvergencePolicy.ShouldSwitchOver(Snapshot(1_000, 4104, 1e9, dirtyRate: 10, limitMs: 20)));
    }
}
