using Tern.Migration.Api;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Throttle;
using Tern.Migration.Throttle;
using Tern.Os;

namespace Tern.Migration.Tests.Planning;

/// <summary>The default planner on made-up pass reports: each action with its reason, the encodings and the throttle.</summary>
public sealed class DefaultPassPlannerTests
{
    private const ulong MiB = 1 << 20;
    private const double PageCost = 4096 + 8;

    /// <summary>A pass that left <paramref name="remaining"/> dirty pages, on a 100 MiB/s link, the guest dirtying <paramref name="dirtyRate"/> pages a second.</summary>
    private static PassReport Pass(long pass, long remaining, double dirtyRate = 1000, double bandwidth = 100 * MiB) => new()
    {
        Pass = pass,
        WireBytesPerPage = PageCost,
        EstimatedBytesPerSecond = bandwidth,
        RemainingPages = remaining,
        DirtyPages = remaining,
        DirtyPagesPerSecond = dirtyRate,
        SyncPeriodMs = 1000,
        Decision = "",
    };

    private static PlanInputs After(PassReport? latest, MigrationParameters? parameters = null, TimeSpan elapsed = default,
        MigrationCapability[]? on = null, ProtocolCapability negotiated = ProtocolCapabilities.Supported, ThrottleMeasurement? period = null) => new()
    {
        Pass = (uint)(latest?.Pass ?? 0) + 1,
        Latest = latest,
        Parameters = parameters ?? new MigrationParameters(),
        Capabilities = (on ?? []).ToHashSet(),
        Negotiated = negotiated,
        SyncPeriod = period,
        GuestRamBytes = 1024 * MiB,
        HostMemory = new HostMemoryInfo(64UL << 30, 32UL << 30, 16UL << 30),
        Elapsed = elapsed,
    };

    [Fact]
    public void The_first_pass_continues_because_it_sends_all_of_RAM()
    {
        var plan = new DefaultPassPlanner().Plan(After(null));
        Assert.Equal(PassAction.Continue, plan.Action);
        Assert.Equal("the first pass sends all of RAM", plan.Reason);
        Assert.Null(plan.Throttle);
    }

    [Fact]
    public void What_is_left_fits_the_downtime_limit_so_it_switches_over_and_says_by_how_much()
    {
        // 2000 pages of 4104 bytes at 100 MiB/s: 78 ms, within the default 300 ms; the guest dirties 20,000 pages/s
        // (78 MiB/s), so another pass would leave most of it.
        var plan = new DefaultPassPlanner().Plan(After(Pass(3, remaining: 2000, dirtyRate: 20_000)));
        Assert.Equal(PassAction.SwitchOver, plan.Action);
        Assert.Equal("2000 dirty pages would take 78 ms to send, within the 300 ms downtime limit", plan.Reason);
    }

    [Fact]
    public void Within_the_limit_a_guest_that_dirties_little_gets_one_more_live_pass_and_the_reason_says_what_it_saves()
    {
        // The same 78 ms, but the guest dirties 1,000 pages/s: after one more live pass the stop would be about 3 ms.
        var plan = new DefaultPassPlanner().Plan(After(Pass(3, remaining: 2000, dirtyRate: 1_000)));
        Assert.Equal(PassAction.Continue, plan.Action);
        Assert.Equal("2000 dirty pages would take 78 ms to send, within the 300 ms downtime limit, but one more live pass would leave about 3 ms", plan.Reason);
        // Past x-timeout it takes the stop it has rather than abort or go on.
        var late = new DefaultPassPlanner().Plan(After(Pass(3, remaining: 2000, dirtyRate: 1_000), new MigrationParameters { TimeoutMs = 10_000 }, TimeSpan.FromSeconds(11)));
        Assert.Equal(PassAction.SwitchOver, late.Action);
        Assert.Contains("x-timeout has passed, so no more live passes", late.Reason);
    }

    [Fact]
    public void Too_much_left_on_a_converging_guest_continues_and_names_the_limit()
    {
        var plan = new DefaultPassPlanner().Plan(After(Pass(3, remaining: 20_000)));
        Assert.Equal(PassAction.Continue, plan.Action);
        Assert.Equal("20000 dirty pages would take 782 ms to send, above the 300 ms downtime limit", plan.Reason);
    }

    [Fact]
    public void A_guest_that_dirties_faster_than_the_link_sends_continues_and_is_said_not_to_converge()
    {
        // 50,000 pages a second of 4104 bytes is 196 MiB/s against a 100 MiB/s link.
        var plan = new DefaultPassPlanner().Plan(After(Pass(3, remaining: 20_000, dirtyRate: 50_000)));
        Assert.Equal(PassAction.Continue, plan.Action);
        Assert.Contains("not converging: the guest dirties 195.7 MiB/s of wire bytes, the link sends 100.0 MiB/s", plan.Reason);
    }

    [Fact]
    public void Past_x_timeout_it_aborts_with_the_reason_the_operator_reads()
    {
        var parameters = new MigrationParameters { TimeoutMs = 10_000 };
        var plan = new DefaultPassPlanner().Plan(After(Pass(7, remaining: 20_000), parameters, elapsed: TimeSpan.FromSeconds(11)));
        Assert.Equal(PassAction.Abort, plan.Action);
        Assert.Equal("the migration did not converge within 10 s (x-timeout); 20000 pages were still dirty and would take 782 ms to send", plan.Reason);

        // Within the timeout it goes on; and a pass that fits switches over even late.
        Assert.Equal(PassAction.Continue, new DefaultPassPlanner().Plan(After(Pass(7, 20_000), parameters, TimeSpan.FromSeconds(9))).Action);
        Assert.Equal(PassAction.SwitchOver, new DefaultPassPlanner().Plan(After(Pass(7, 2000), parameters, TimeSpan.FromSeconds(11))).Action);
    }

    [Fact]
    public void Without_a_measured_bandwidth_it_continues_and_says_so()
    {
        var plan = new DefaultPassPlanner().Plan(After(Pass(1, remaining: 100, bandwidth: 0)));
        Assert.Equal(PassAction.Continue, plan.Action);
        Assert.Equal("100 dirty pages, the bandwidth is not measured yet", plan.Reason);
    }

    [Fact]
    public void The_final_pass_keeps_the_switchover_and_never_throttles()
    {
        var inputs = After(Pass(5, remaining: 100)) with { Final = true };
        var plan = new DefaultPassPlanner().Plan(inputs);
        Assert.Equal(PassAction.SwitchOver, plan.Action);
        Assert.Null(plan.Throttle);
    }

    [Fact]
    public void Encodings_are_the_operators_within_what_the_destination_accepted()
    {
        var planner = new DefaultPassPlanner();
        var p = new MigrationParameters { XbzrleCacheSize = 64 * MiB, CompressMethod = "lz4", CompressLevel = 1, CompressThreads = 2 };
        MigrationCapability[] both = [MigrationCapability.Xbzrle, MigrationCapability.Compress];

        var all = planner.Plan(After(Pass(2, 20_000), p, on: both)).Encoding;
        Assert.True(all.Xbzrle);
        Assert.Equal(64 * MiB, all.XbzrleCacheBytes);
        Assert.Equal("lz4", all.CompressMethod);
        Assert.Equal(2, all.CompressThreads);

        var refused = planner.Plan(After(Pass(2, 20_000), p, on: both, negotiated: ProtocolCapability.CompressZstd)).Encoding;
        Assert.False(refused.Xbzrle);
        Assert.Null(refused.CompressMethod); // lz4 was not accepted

        Assert.Equal(PassEncoding.Plain with { CompressLevel = p.CompressLevel, CompressThreads = 2 }, planner.Plan(After(Pass(2, 20_000), p)).Encoding);
    }

    [Fact]
    public void An_automatic_xbzrle_cache_waits_for_a_working_set_and_then_fits_it()
    {
        var planner = new DefaultPassPlanner();
        MigrationCapability[] xbzrle = [MigrationCapability.Xbzrle];
        var first = planner.Plan(After(null, on: xbzrle)).Encoding;
        Assert.False(first.Xbzrle); // nothing measured: no cache yet

        var fitted = planner.Plan(After(Pass(1, 20_000), on: xbzrle) with { WorkingSetPages = 16384 }).Encoding;
        Assert.True(fitted.Xbzrle);
        Assert.Equal(96 * MiB, fitted.XbzrleCacheBytes); // 64 MiB of working set and half again
        Assert.Contains("working set 16384 pages", fitted.XbzrleCacheReason);
    }

    [Fact]
    public void The_final_pass_keeps_the_xbzrle_cache_as_it_is_and_makes_none()
    {
        // The guest is stopped: a cache made or resized now would start empty, every page would miss and go whole
        // after being copied into it. So the working set measured at the last sync changes nothing.
        var planner = new DefaultPassPlanner();
        MigrationCapability[] xbzrle = [MigrationCapability.Xbzrle];
        var noCacheYet = After(Pass(2, 4096), on: xbzrle) with { Final = true, WorkingSetPages = 4096, XbzrleCacheBytes = 0 };
        var plain = planner.Plan(noCacheYet).Encoding;
        Assert.False(plain.Xbzrle);
        Assert.Equal(0UL, plain.XbzrleCacheBytes);

        var warm = After(Pass(3, 4096), on: xbzrle) with { Final = true, WorkingSetPages = 16384, XbzrleCacheBytes = 24 * MiB };
        var kept = planner.Plan(warm).Encoding;
        Assert.True(kept.Xbzrle);
        Assert.Equal(24 * MiB, kept.XbzrleCacheBytes); // not refitted to the 64 MiB working set
        Assert.Null(kept.XbzrleCacheReason);

        var bySize = After(Pass(3, 4096), new MigrationParameters { XbzrleCacheSize = 64 * MiB }, on: xbzrle) with { Final = true, XbzrleCacheBytes = 0 };
        Assert.False(planner.Plan(bySize).Encoding.Xbzrle); // even a size set by hand is not filled during the stop
    }

    [Fact]
    public void The_throttle_is_the_chosen_controllers_and_none_without_auto_converge()
    {
        // Two vCPUs dirtying 150 MiB/s between them on a 100 MiB/s link: the computed throttle slows them.
        var period = Measurements.PerVcpu(100, [Measurements.PagesOf(100), Measurements.PagesOf(50)]);
        var throttled = new DefaultPassPlanner().Plan(After(Pass(2, 40_000), on: [MigrationCapability.AutoConverge], period: period));
        Assert.NotNull(throttled.Throttle);
        Assert.True(throttled.Throttle.PercentPerVcpu[0] > 0, throttled.Throttle.Reason);

        Assert.Null(new DefaultPassPlanner().Plan(After(Pass(2, 40_000), period: period)).Throttle);
    }

    [Fact]
    public void Auto_converge_switched_off_after_it_throttled_gives_the_guest_its_speed_back()
    {
        var planner = new DefaultPassPlanner();
        var period = Measurements.PerVcpu(100, [Measurements.PagesOf(100), Measurements.PagesOf(50)]);
        var on = planner.Plan(After(Pass(2, 40_000), on: [MigrationCapability.AutoConverge], period: period));
        var off = planner.Plan(After(Pass(3, 40_000), period: period with { ThrottlePercent = on.Throttle!.PercentPerVcpu }));
        Assert.Equal([0, 0], off.Throttle!.PercentPerVcpu);
        Assert.Equal("throttling was switched off", off.Throttle.Reason);
    }
}
