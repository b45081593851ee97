using Tern.Migration.Throttle;

namespace Tern.Migration.Tests.Throttle;

public sealed class RateCapsTests
{
    [Fact]
    public void The_level_caps_only_the_rates_above_it()
    {
        Assert.Equal(20, RateCaps.Level([200, 100, 10], 50), 6);
        Assert.Equal(25, RateCaps.Level([100, 100], 50), 6);
        Assert.Equal(double.PositiveInfinity, RateCaps.Level([10, 20], 50));
        Assert.Equal(0, RateCaps.Level([10, 20], 0), 6);
    }

    [Fact]
    public void The_throttle_for_a_cap_rounds_up_to_a_whole_percent_and_stops_at_the_maximum()
    {
        Assert.Equal(0, RateCaps.ThrottleFor(50, 50, 99));
        Assert.Equal(50, RateCaps.ThrottleFor(100, 50, 99));
        Assert.Equal(34, RateCaps.ThrottleFor(100, 66.5, 99));
        Assert.Equal(99, RateCaps.ThrottleFor(1e9, 1, 99));
    }

    [Fact]
    public void A_throttled_rate_is_read_as_what_it_would_be_unthrottled()
    {
        Assert.Equal(100, RateCaps.Unthrottled(50, 50), 6);
        Assert.Equal(1000, RateCaps.Unthrottled(10, 99), 6);
        Assert.Equal(10, RateCaps.Unthrottled(10, 0), 6);
    }
}
