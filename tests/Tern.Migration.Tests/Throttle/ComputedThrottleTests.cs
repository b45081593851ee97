using Tern.Migration.Throttle;
using static Tern.Migration.Tests.Throttle.Measurements;

namespace Tern.Migration.Tests.Throttle;

public sealed class ComputedThrottleTests
{
    private static readonly ThrottleSettings Defaults = new();
    private readonly ComputedThrottle controller = new();

    [Fact]
    public void A_guest_that_converges_on_its_own_is_not_throttled()
    {
        var plan = controller.Next(PerVcpu(100, [PagesOf(30), PagesOf(10)]), Defaults);
        Assert.Equal([0, 0], plan.PercentPerVcpu);
        Assert.Contains("without a throttle", plan.Reason);
    }

    [Fact]
    public void It_throttles_just_enough_for_each_pass_to_take_half_the_one_before()
    {
        // 400 MiB/s of dirtying on a 100 MiB/s link: 50 MiB/s is the target, so the vCPU keeps an eighth of its speed.
        long[] rates = [PagesOf(400)];
        var plan = controller.Next(PerVcpu(100, rates), Defaults);
        Assert.Equal(88, plan.PercentPerVcpu[0]);
        double ratio = RateUnder(plan, rates) * PageCost / (100 * MiB);
        Assert.InRange(ratio, 0.45, ComputedThrottle.TargetPassRatio);
    }

    [Fact]
    public void Only_the_vcpu_that_dirties_memory_is_slowed()
    {
        // vCPU 0 dirties 300 MiB/s, vCPU 1 computes and dirties almost nothing.
        var plan = controller.Next(PerVcpu(100, [PagesOf(300), PagesOf(1)]), Defaults);
        Assert.Equal(0, plan.PercentPerVcpu[1]);
        Assert.InRange(plan.PercentPerVcpu[0], 83, 84);
        Assert.Contains("vCPU 0", plan.Reason);
        Assert.DoesNotContain("vCPU 1", plan.Reason);
    }

    [Fact]
    public void Two_dirtying_vcpus_are_brought_to_the_same_level_and_a_light_one_is_spared()
    {
        long[] rates = [PagesOf(200), PagesOf(100), PagesOf(10)];
        var plan = controller.Next(PerVcpu(100, rates), Defaults);
        // 50 MiB/s for all: 10 for the light vCPU, 20 each for the other two.
        Assert.Equal(0, plan.PercentPerVcpu[2]);
        Assert.InRange(plan.PercentPerVcpu[0], 90, 90);
        Assert.InRange(plan.PercentPerVcpu[1], 80, 80);
        Assert.InRange(RateUnder(plan, rates) * PageCost / (100 * MiB), 0.45, 0.5);
    }

    [Fact]
    public void It_reads_the_rate_a_throttled_vcpu_would_have_and_eases_off_when_the_guest_calms_down()
    {
        // Measured at 88% throttle: 48 MiB/s then means 400 MiB/s unthrottled, so the throttle stays.
        var held = controller.Next(PerVcpu(100, [PagesOf(48)], [88]), Defaults);
        Assert.InRange(held.PercentPerVcpu[0], 87, 88);
        // The guest now dirties 6 MiB/s at 88%: 50 MiB/s unthrottled, within the target: the throttle goes.
        var eased = controller.Next(PerVcpu(100, [PagesOf(6)], [88]), Defaults);
        Assert.Equal(0, eased.PercentPerVcpu[0]);
    }

    [Fact]
    public void Never_above_max_cpu_throttle()
    {
        var plan = controller.Next(PerVcpu(100, [PagesOf(100_000)]), Defaults with { MaxPercent = 60 });
        Assert.Equal(60, plan.PercentPerVcpu[0]);
    }

    [Fact]
    public void Without_per_vcpu_counts_every_vcpu_is_slowed_alike()
    {
        var plan = controller.Next(Total(100, PagesOf(400), 2), Defaults);
        Assert.Equal(plan.PercentPerVcpu[0], plan.PercentPerVcpu[1]);
        Assert.Equal(88, plan.PercentPerVcpu[0]);
    }

    [Fact]
    public void Compressed_pages_count_at_what_they_cost_on_the_wire()
    {
        // 400 MiB/s of whole pages, but XBZRLE sends each at 400 bytes: 40 MiB/s of wire, under the 50 MiB/s target.
        var m = PerVcpu(100, [PagesOf(400)]) with { WireBytesPerPage = 400 };
        Assert.Equal(0, controller.Next(m, Defaults).MaxPercent);
    }

    [Fact]
    public void Before_the_bandwidth_is_known_it_keeps_what_is_in_force()
    {
        var m = PerVcpu(100, [PagesOf(400)], [30]) with { BandwidthBytesPerSecond = 0 };
        Assert.Equal([30], controller.Next(m, Defaults).PercentPerVcpu);
    }
}
