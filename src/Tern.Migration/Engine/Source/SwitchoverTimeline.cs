using System.Diagnostics;
using System.Globalization;
using Tern.Migration.Api;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// Where the downtime goes: how long each step of the switchover took, from the pause on (each step's time runs from
/// the end of the step before). Written by the migration thread, read by <c>query-migrate</c>.
/// </summary>
internal sealed class SwitchoverTimeline(long start)
{
    private readonly List<SwitchoverStepTime> steps = [];
    private long last = start;

    /// <summary>Marks the end of <paramref name="step"/>.</summary>
    public void Mark(SwitchoverStep step) => Mark(step, TimeSpan.Zero);

    /// <summary>
    /// Marks the end of <paramref name="step"/>, less <paramref name="notStopped"/> of it during which the guest was
    /// already running again (the destination held Resumed back): the steps add up to the stop, not to the wait.
    /// </summary>
    public void Mark(SwitchoverStep step, TimeSpan notStopped)
    {
        long now = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(last, now);
        var time = new SwitchoverStepTime(step, Math.Max(0, (elapsed - notStopped).TotalMilliseconds));
        last = now;
        lock (steps) steps.Add(time);
    }

    public IReadOnlyList<SwitchoverStepTime> Steps
    {
        get { lock (steps) return steps.ToArray(); }
    }

    public override string ToString() =>
        string.Join(", ", Steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Step.ToQapi()} {s.Ms:0.0} ms")));
}
