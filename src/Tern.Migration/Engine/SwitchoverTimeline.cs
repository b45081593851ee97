using System.Diagnostics;
using System.Globalization;

namespace Tern.Migration.Engine;

/// <summary>Where the downtime goes: the time from the pause to each step of the switchover, for the log.</summary>
internal sealed class SwitchoverTimeline(long start)
{
    private readonly List<(string Step, double Ms)> steps = [];

    public void Mark(string step) => steps.Add((step, Stopwatch.GetElapsedTime(start).TotalMilliseconds));

    public override string ToString() =>
        string.Join(", ", steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Step} +{s.Ms:0.0} ms")));
}
