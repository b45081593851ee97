using Tern.Migration.Throttle;
using static Tern.Migration.Tests.Throttle.Measurements;

namespace Tern.Migration.Tests.Throttle;

/// <summary>The computed throttle stops climbing when more throttle does not lower the measured dirty rate.</summary>
public sealed class ThrottleSaturationTests
{
    private static readonly ThrottleSettings Defaults = new();
    private readonly ComputedThrottle controller = new();

    [Fact]
    public void A_rise_that_leaves_the_rate_where_it_was_is_not_biting_and_one_that_lowers_it_is()
    {
        // 50% -> 88% predicts 200 -> 48; 195 is no fall, 60 is most of it.
        Assert.True(ThrottleResponse.NotBiting(200, 50, 195, 88));
        Assert.False(ThrottleResponse.NotBiting(200, 50, 60, 88));
        // A quarter of the predicted fall (38 of 152) is the line.
        Assert.True(ThrottleResponse.NotBiting(200, 50, 163, 88));
        Assert.False(ThrottleResponse.NotBiting(200, 50, 161, 88));
        // Small rises, falls of the throttle and an idle vCPU are never judged.
        Assert.False(ThrottleResponse.NotBiting(200, 85, 200, 88));
        Assert.False(ThrottleResponse.NotBiting(200, 88, 200, 50));
        Assert.False(ThrottleResponse.NotBiting(0, 0, 0, 50));
    }

    [Fact]
    public void A_throttle_that_does_not_bite_is_held_where_it_is_and_the_reason_says_so()
    {
        // 200 MiB/s at 50% on a 100 MiB/s link: the model wants 88%.
        var first = controller.Next(PerVcpu(100, [PagesOf(200)], [50]), Defaults);
        Assert.Equal(88, first.PercentPerVcpu[0]);
        // At 88% the guest still dirties 195 MiB/s (the model expected 48): climbing to 99% would buy nothing.
        var second = controller.Next(PerVcpu(100, [PagesOf(195)], [88]), Defaults);
        Assert.Equal(88, second.PercentPerVcpu[0]);
        Assert.Contains("throttle not biting on vCPU 0: 50% -> 88%", second.Reason);
        Assert.Contains("vCPU 0 held at 88%", second.Reason);
        // Still no fall: it stays held.
        var third = controller.Next(PerVcpu(100, [PagesOf(198)], [88]), Defaults);
        Assert.Equal(88, third.PercentPerVcpu[0]);
    }

    [Fact]
    public void A_throttle_that_bites_keeps_following_the_model()
    {
        controller.Next(PerVcpu(100, [PagesOf(200)], [50]), Defaults);
        var next = controller.Next(PerVcpu(100, [PagesOf(60)], [88]), Defaults);
        Assert.DoesNotContain("not biting", next.Reason);
        Assert.True(next.PercentPerVcpu[0] >= 88);
    }

    [Fact]
    public void A_hold_ends_when_the_rate_falls_after_all_or_the_vcpu_needs_less()
    {
        controller.Next(PerVcpu(100, [PagesOf(200)], [50]), Defaults);
        Assert.Equal(88, controller.Next(PerVcpu(100, [PagesOf(195)], [88]), Defaults).PercentPerVcpu[0]);
        // The throttle bit late: at the same 88% the rate fell to 100 MiB/s, so the model is trusted again.
        var resumed = controller.Next(PerVcpu(100, [PagesOf(100)], [88]), Defaults);
        Assert.True(resumed.PercentPerVcpu[0] > 88, resumed.Reason);
        Assert.DoesNotContain("held", resumed.Reason);
    }

    [Fact]
    public void Only_the_vcpu_whose_throttle_does_not_bite_is_held()
    {
        controller.Next(PerVcpu(100, [PagesOf(150), PagesOf(150)], [50, 50]), Defaults);
        var plan = controller.Next(PerVcpu(100, [PagesOf(150), PagesOf(30)], [80, 80]), Defaults);
        Assert.Contains("not biting on vCPU 0", plan.Reason);
        Assert.DoesNotContain("vCPU 1 held", plan.Reason);
        Assert.Equal(80, plan.PercentPerVcpu[0]);
        Assert.True(plan.PercentPerVcpu[1] > 80, plan.Reason);
    }
}
