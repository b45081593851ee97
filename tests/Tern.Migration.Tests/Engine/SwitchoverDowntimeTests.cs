using Tern.Migration.Engine.Source;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// The downtime from both sides' measures: the destination's clock decides where the stop ended, but only between
/// what the source knows for sure (at least until Commit was written, at most until Resumed arrived less the time it
/// was held back), so clocks that disagree across hosts cannot make it shorter or longer than that.
/// </summary>
public sealed class SwitchoverDowntimeTests
{
    private const long PausedUnixNs = 1_800_000_000_000_000_000;
    private static readonly TimeSpan Commit = TimeSpan.FromMilliseconds(3), Arrived = TimeSpan.FromMilliseconds(12), Held = TimeSpan.FromMilliseconds(2);

    private static long ResumedAfter(double ms) => PausedUnixNs + (long)(ms * 1_000_000);

    [Fact]
    public void The_destination_clock_places_the_end_between_the_bounds()
    {
        // A loaded host: the destination resumed 4 ms after the pause, Resumed was read 8 ms later.
        Assert.Equal(TimeSpan.FromMilliseconds(4), SwitchoverDowntime.Estimate(Commit, Arrived, Held, PausedUnixNs, ResumedAfter(4)));
    }

    [Fact]
    public void A_destination_clock_behind_or_ahead_is_held_to_the_bounds()
    {
        Assert.Equal(Commit, SwitchoverDowntime.Estimate(Commit, Arrived, Held, PausedUnixNs, ResumedAfter(-50)));
        Assert.Equal(Arrived - Held, SwitchoverDowntime.Estimate(Commit, Arrived, Held, PausedUnixNs, ResumedAfter(500)));
    }

    [Fact]
    public void Without_a_clock_on_either_side_the_source_bound_stands_and_never_falls_below_the_commit()
    {
        Assert.Equal(Arrived - Held, SwitchoverDowntime.Estimate(Commit, Arrived, Held, 0, ResumedAfter(4)));
        Assert.Equal(Arrived - Held, SwitchoverDowntime.Estimate(Commit, Arrived, Held, PausedUnixNs, 0));
        // Held back longer than the round trip (a destination's own measure): never less than until Commit.
        Assert.Equal(Commit, SwitchoverDowntime.Estimate(Commit, Arrived, TimeSpan.FromMilliseconds(20), 0, 0));
    }
}
