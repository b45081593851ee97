using Tern.Migration.Api;

namespace Tern.Control.Progress;

/// <summary>
/// Follows one guest's progress counters through a migration and measures the slowdown it caused. Fed with readings
/// (a few per second) and what the host knew at each: whether the guest was running, and whether a migration was
/// moving it. Readings while the guest runs and nothing migrates form the "before" window (the last
/// <see cref="BeforeWindowSeconds"/>; a pause empties it, as a paused guest has no rate); readings while the guest
/// runs and a migration is under way form the "during" window, which ends at the first reading where either stops
/// (the switchover pauses the guest). Not thread-safe: the host feeds it under its lock.
/// </summary>
public sealed class GuestProgressTracker(IReadOnlyList<bool> measuredVcpus, double beforeWindowSeconds = GuestProgressTracker.DefaultBeforeWindowSeconds)
{
    /// <summary>How far back the "before" window reaches from the migration's start.</summary>
    public const double DefaultBeforeWindowSeconds = 3;

    private readonly Queue<ProgressReading> before = new();
    private ProgressReading? beforeFrom, beforeTo, duringFrom, duringTo;
    private Phase phase = Phase.Waiting;

    private enum Phase { Waiting, Migrating, Measured }

    public double BeforeWindowSeconds => beforeWindowSeconds;

    /// <summary>The measurement of the current (or last) migration, once both windows have two readings.</summary>
    public GuestSlowdown? Result =>
        beforeFrom is { } bf && beforeTo is { } bt && duringFrom is { } df && duringTo is { } dt
            ? GuestSlowdownCalculator.Measure(bf, bt, df, dt, measuredVcpus)
            : null;

    /// <summary>A new migration is starting: forget the last one's measurement, keep the readings before it.</summary>
    public void BeginMigration()
    {
        phase = Phase.Waiting;
        beforeFrom = beforeTo = duringFrom = duringTo = null;
    }

    public void Observe(ProgressReading reading, bool guestRunning, bool migrating)
    {
        if (phase == Phase.Migrating)
        {
            if (guestRunning && migrating)
            {
                duringTo = reading;
                return;
            }
            phase = Phase.Measured; // the live phase is over: switchover, pause, or the migration ended
        }
        if (!guestRunning)
        {
            before.Clear();
            return;
        }
        if (migrating && phase == Phase.Waiting)
        {
            phase = Phase.Migrating;
            if (before.Count >= 2)
            {
                beforeFrom = before.Peek();
                beforeTo = before.Last();
            }
            before.Clear(); // the next migration's window starts after this one
            duringFrom = reading;
            return;
        }
        if (migrating) return; // a migration measured already, still finishing
        before.Enqueue(reading);
        while (before.Count > 2 && reading.Seconds - before.Peek().Seconds > beforeWindowSeconds) before.Dequeue();
    }
}
