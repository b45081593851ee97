using Tern.Control.Progress;

namespace Tern.Control.Tests.Progress;

public sealed class GuestProgressTrackerTests
{
    /// <summary>Feeds readings every 0.1 s at <paramref name="perSecond"/> from (t, c); returns the last (t, c).</summary>
    private static (double T, ulong C) Feed(GuestProgressTracker tracker, double t, ulong c, double seconds, ulong perSecond, bool running, bool migrating)
    {
        for (int i = 0; i < (int)Math.Round(seconds * 10); i++)
        {
            t += 0.1;
            c += perSecond / 10;
            tracker.Observe(new ProgressReading(t, [c]), running, migrating);
        }
        return (t, c);
    }

    [Fact]
    public void Measures_the_last_seconds_before_the_migration_against_its_live_phase()
    {
        var tracker = new GuestProgressTracker([true], beforeWindowSeconds: 2);
        var (t, c) = Feed(tracker, 0, 0, 10, 5000, running: true, migrating: false);   // long before: 5000/s, outside the window
        (t, c) = Feed(tracker, t, c, 3, 1000, running: true, migrating: false);          // the last 3 s: 1000/s
        tracker.BeginMigration();
        Assert.Null(tracker.Result);
        (t, c) = Feed(tracker, t, c, 2, 250, running: true, migrating: true);            // live phase: 250/s
        (t, c) = Feed(tracker, t, c, 0.5, 0, running: false, migrating: true);           // switchover: paused
        Feed(tracker, t, c, 1, 0, running: false, migrating: false);                     // handed over

        var s = tracker.Result!;
        Assert.Equal(1000, s.ProgressBeforePerSecond, 3);
        Assert.Equal(250, s.ProgressDuringPerSecond, 3);
        Assert.Equal(0.75, s.Slowdown, 6);
        Assert.InRange(s.BeforeSeconds, 1.9, 2.11);
        Assert.InRange(s.DuringSeconds, 1.8, 2.0);
    }

    [Fact]
    public void A_pause_before_the_migration_empties_the_before_window()
    {
        var tracker = new GuestProgressTracker([true]);
        var (t, c) = Feed(tracker, 0, 0, 2, 1000, running: true, migrating: false);
        (t, c) = Feed(tracker, t, c, 1, 0, running: false, migrating: false);
        tracker.BeginMigration();
        Feed(tracker, t, c, 2, 500, running: true, migrating: true);
        Assert.Null(tracker.Result); // nothing to compare with: the guest did not run just before
    }

    [Fact]
    public void A_second_migration_is_measured_afresh_from_what_ran_after_the_first()
    {
        var tracker = new GuestProgressTracker([true]);
        var (t, c) = Feed(tracker, 0, 0, 2, 1000, running: true, migrating: false);
        tracker.BeginMigration();
        (t, c) = Feed(tracker, t, c, 1, 100, running: true, migrating: true);
        (t, c) = Feed(tracker, t, c, 2, 800, running: true, migrating: false);            // the first one failed; the guest runs on
        Assert.Equal(0.9, tracker.Result!.Slowdown, 6);                                   // the first one's result stays until the next starts
        tracker.BeginMigration();
        Feed(tracker, t, c, 1, 400, running: true, migrating: true);
        var s = tracker.Result!;
        Assert.Equal(800, s.ProgressBeforePerSecond, 3);
        Assert.Equal(0.5, s.Slowdown, 6);
    }
}
