using Tern.Migration.Api;

namespace Tern.Control.Progress;

/// <summary>The guest's slowdown during a migration, as a pure function of four counter readings.</summary>
public static class GuestSlowdownCalculator
{
    /// <summary>
    /// The shortest before-window that says what the guest's rate was: a guest started a moment before its migration
    /// is still touching its memory for the first time (slowly), and a 0.13 s window of that gave a "slowdown" of
    /// -15.6 (sixteen times faster during the migration).
    /// </summary>
    public const double MinimumBeforeSeconds = 0.5;

    /// <summary>
    /// Rates over [<paramref name="beforeFrom"/>, <paramref name="beforeTo"/>] (before the migration) and
    /// [<paramref name="duringFrom"/>, <paramref name="duringTo"/>] (during it), per vCPU and summed over the vCPUs
    /// <paramref name="measured"/> says to count. Null when a window is empty, a counter went backwards (a different
    /// guest), no measured vCPU made progress before the migration (there is nothing to compare with), or the guest
    /// ran for less than <see cref="MinimumBeforeSeconds"/> before it.
    /// </summary>
    public static GuestSlowdown? Measure(ProgressReading beforeFrom, ProgressReading beforeTo, ProgressReading duringFrom,
        ProgressReading duringTo, IReadOnlyList<bool> measured)
    {
        int n = measured.Count;
        if (new[] { beforeFrom, beforeTo, duringFrom, duringTo }.Any(r => r.Counters.Count != n)) return null;
        double beforeSeconds = beforeTo.Seconds - beforeFrom.Seconds;
        double duringSeconds = duringTo.Seconds - duringFrom.Seconds;
        if (!(beforeSeconds >= MinimumBeforeSeconds) || !(duringSeconds > 0)) return null;

        var perVcpu = new double?[n];
        double beforeSum = 0, duringSum = 0, slowdownSum = 0;
        int counted = 0;
        for (int v = 0; v < n; v++)
        {
            if (beforeTo.Counters[v] < beforeFrom.Counters[v] || duringTo.Counters[v] < duringFrom.Counters[v]) return null;
            if (!measured[v]) continue;
            double before = (beforeTo.Counters[v] - beforeFrom.Counters[v]) / beforeSeconds;
            double during = (duringTo.Counters[v] - duringFrom.Counters[v]) / duringSeconds;
            beforeSum += before;
            duringSum += during;
            if (before <= 0) continue;
            perVcpu[v] = 1 - during / before;
            slowdownSum += perVcpu[v]!.Value;
            counted++;
        }
        if (counted == 0) return null;
        return new GuestSlowdown(beforeSum, duringSum, slowdownSum / counted, perVcpu, beforeSeconds, duringSeconds);
    }
}
