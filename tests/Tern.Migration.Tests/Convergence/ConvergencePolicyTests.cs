using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Convergence;

public sealed class ConvergencePolicyTests
{
    private static ConvergenceSnapshot Snapshot(long remaining, double bytesPerPage, double bandwidth, double dirtyRate = 0, long limitMs = 300, long pass = 3) =>
        new(pass, remaining, bytesPerPage, bandwidth, dirtyRate, limitMs);

    [Fact]
    public void It_switches_over_when_what_is_left_fits_the_downtime_budget()
    {
        // 10,000 whole pages on a 1 GB/s link: 41 ms.
        var s = Snapshot(10_000, 4104, 1e9);
        Assert.Equal(41, ConvergencePolicy.ExpectedDowntime(s)!.Value.TotalMilliseconds, 0);
        Assert.True(ConvergencePolicy.ShouldSwitchOver(s));
        Assert.False(ConvergencePolicy.ShouldSwitchOver(s with { DowntimeLimitMs = 30 }));
    }

    [Fact]
    public void It_counts_the_bytes_that_really_go_on_the_wire_not_whole_pages()
    {
        // The case QEMU 7.2 gets wrong: 100,000 dirty pages that XBZRLE sends at 40 bytes each, on a 100 MB/s link
        // that the compressed stream fills. As whole pages that is 4.1 s of downtime; as what is really sent, 40 ms.
        var whole = Snapshot(100_000, 4104, 100e6);
        var real = Snapshot(100_000, 40, 100e6);
        Assert.False(ConvergencePolicy.ShouldSwitchOver(whole));
        Assert.True(ConvergencePolicy.ShouldSwitchOver(real));
        Assert.Equal(40, ConvergencePolicy.ExpectedDowntime(real)!.Value.TotalMilliseconds, 0);
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
}
