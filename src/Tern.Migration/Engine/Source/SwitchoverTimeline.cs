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
    public void Mark(SwitchoverStep step, TimeSpan notStopped) => Mark(step, notStopped, Stopwatch.GetTimestamp());

    /// <summary>As <see cref="Mark(SwitchoverStep, TimeSpan)"/>, for a step that ended at <paramref name="now"/> (a Stopwatch timestamp).</summary>
    public void Mark(SwitchoverStep step, TimeSpan notStopped, long now)
    {
        double stopped = (Stopwatch.GetElapsedTime(last, now) - notStopped).TotalMilliseconds;
        last = now;
        lock (steps)
        {
            // The guest may have run again before this step began (the source's thread was descheduled right after
            // writing Commit, while the destination already resumed): that time comes off the steps before it, so the
            // steps still add up to the stop (a CI run showed them 3.7 ms over the downtime when it was dropped).
            for (int i = steps.Count - 1; stopped < 0 && i >= 0; i--)
            {
                double taken = Math.Min(-stopped, steps[i].Ms);
                steps[i] = steps[i] with { Ms = steps[i].Ms - taken };
                stopped += taken;
            }
            steps.Add(new SwitchoverStepTime(step, Math.Max(0, stopped)));
        }
    }

    public IReadOnlyList<SwitchoverStepTime> Steps
    {
        get { lock (steps) return steps.ToArray(); }
    }

    public override string ToString() =>
        string.Join(", ", Steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Step.ToQapi()} {s.Ms:0.0} ms")));
}
