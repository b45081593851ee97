using Tern.Migration.Throttle;
using static Tern.Migration.Tests.Throttle.Measurements;

namespace Tern.Migration.Tests.Throttle;

public sealed class DirtyLimitThrottleTests
{
    private static readonly ThrottleSettings Defaults = new();

    [Fact]
    public void A_vcpu_above_its_limit_is_throttled_to_it_and_one_below_keeps_its_speed()
    {
        // vCPU 0 dirties 1000 pages/s (4.1 MB/s) against a 1 MB/s limit; vCPU 1 dirties 100 pages/s (0.4 MB/s).
        var limit = new DirtyLimitThrottle([1.0, 1.0]);
        var plan = limit.Next(PerVcpu(100, [1000, 100]), Defaults);
        Assert.Equal(76, plan.PercentPerVcpu[0]);
        Assert.Equal(0, plan.PercentPerVcpu[1]);
        Assert.True(1000 * 4096 * (1 - plan.PercentPerVcpu[0] / 100.0) <= 1e6);
    }

    [Fact]
    public void A_vcpu_without_a_limit_is_left_alone()
    {
        var plan = new DirtyLimitThrottle([null, 1.0]).Next(PerVcpu(100, [100_000, 100_000]), Defaults);
        Assert.Equal(0, plan.PercentPerVcpu[0]);
        Assert.True(plan.PercentPerVcpu[1] > 90);
    }

    [Fact]
    public void Without_per_vcpu_rates_it_changes_nothing_and_says_why()
    {
        var plan = new DirtyLimitThrottle([1.0]).Next(Total(100, 100_000, 1, 10), Defaults);
        Assert.Equal([10], plan.PercentPerVcpu);
        Assert.Contains("dirty ring", plan.Reason);
    }
}
