using Tern.Migration.Throttle;
using static Tern.Migration.Tests.Throttle.Measurements;

namespace Tern.Migration.Tests.Throttle;

public sealed class QemuStepThrottleTests
{
    private static readonly ThrottleSettings Defaults = new();

    [Fact]
    public void It_starts_only_after_two_periods_above_the_threshold_then_steps_by_the_increment_up_to_the_cap()
    {
        var step = new QemuStepThrottle();
        var seen = new List<int>();
        int now = 0;
        // The guest dirties twice what the link sends: always above the 50% threshold.
        for (int period = 0; period < 40; period++)
        {
            var plan = step.Next(Total(100, PagesOf(200), 2, now), Defaults);
            now = plan.MaxPercent;
            seen.Add(now);
        }
        Assert.Equal([0, 20, 20, 30, 30, 40], seen.Take(6));
        Assert.Equal(99, seen[^1]);
        Assert.Equal(99, seen.Max());
        Assert.All(seen, p => Assert.True(p is 0 or (>= 20 and <= 99)));
    }

    [Fact]
    public void Below_the_trigger_threshold_it_never_throttles()
    {
        var step = new QemuStepThrottle();
        for (int period = 0; period < 10; period++)
            Assert.Equal(0, step.Next(Total(100, PagesOf(49), 1), Defaults).MaxPercent);
    }

    [Fact]
    public void It_slows_every_vcpu_alike_even_one_that_dirties_nothing()
    {
        var step = new QemuStepThrottle();
        step.Next(PerVcpu(100, [PagesOf(200), 0]), Defaults);
        var plan = step.Next(PerVcpu(100, [PagesOf(200), 0]), Defaults);
        Assert.Equal([20, 20], plan.PercentPerVcpu);
    }

    [Fact]
    public void Tailslow_steps_no_further_than_the_threshold_needs()
    {
        var settings = Defaults with { Tailslow = true };
        var step = new QemuStepThrottle();
        // At 20%, dirtying 55% of what was sent: the ideal CPU share is 80 * 50/55 = 72.7, so the step is 7, not 10.
        step.Next(Total(100, PagesOf(55 * 1.0), 1, 20), settings);
        var plan = step.Next(Total(100, PagesOf(55 * 1.0), 1, 20), settings);
        Assert.InRange(plan.MaxPercent, 26, 28);
    }

    [Fact]
    public void The_cap_is_max_cpu_throttle()
    {
        var settings = Defaults with { MaxPercent = 45 };
        var step = new QemuStepThrottle();
        int now = 0;
        for (int period = 0; period < 20; period++) now = step.Next(Total(100, PagesOf(400), 1, now), settings).MaxPercent;
        Assert.Equal(45, now);
    }
}
