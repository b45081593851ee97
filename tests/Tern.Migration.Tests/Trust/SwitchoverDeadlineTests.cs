using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Trust;

/// <summary>The pause bound: the downtime limit plus a margin for what the final-pass prediction does not count.</summary>
public sealed class SwitchoverDeadlineTests
{
    [Fact]
    public void The_default_limit_gives_a_destination_about_a_second_and_a_half()
    {
        var bound = SwitchoverDeadline.For(300, TimeSpan.FromMilliseconds(120), verify: false, ramBytes: 1UL << 30);
        Assert.Equal(TimeSpan.FromMilliseconds(300 + 1000 + 120), bound);
    }

    [Fact]
    public void An_unknown_or_overlong_prediction_counts_as_the_limit()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(1600), SwitchoverDeadline.For(300, null, false, 1UL << 30));
        Assert.Equal(TimeSpan.FromMilliseconds(1600), SwitchoverDeadline.For(300, TimeSpan.FromSeconds(5), false, 1UL << 30));
    }

    [Fact]
    public void Verification_adds_time_to_hash_guest_RAM_at_the_floor_rate()
    {
        var without = SwitchoverDeadline.Margin(300, TimeSpan.Zero, false, 4UL << 30);
        var with = SwitchoverDeadline.Margin(300, TimeSpan.Zero, true, 4UL << 30);
        Assert.Equal(TimeSpan.FromSeconds(4), with - without);
    }
}
