namespace Tern.Machine;

/// <summary>
/// How a throttled vCPU shares its time, on both backends, as QEMU's cpu-throttle does: it runs for at least one
/// <see cref="Period"/>, then sleeps in proportion to the time it actually ran (f / (1 - f) of it for a throttle f),
/// so that it runs 1 - f of the time whatever the timer's jitter. Running a fixed short share of every period
/// instead (0.1 ms of each 10 ms at 99%) leaves the duty cycle to timer and kick latencies of a millisecond or more,
/// and a 99% throttle then slows a guest by a small fraction of that.
/// </summary>
public static class ThrottleClock
{
    /// <summary>The shortest run between two throttle sleeps.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest single sleep, so that a throttle change or a request is never far away.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(2);

    /// <summary>How long to sleep after running for <paramref name="ran"/> under a throttle of <paramref name="permille"/> (0-990).</summary>
    public static TimeSpan SleepAfter(TimeSpan ran, int permille)
    {
        if (permille <= 0 || ran <= TimeSpan.Zero) return TimeSpan.Zero;
        double f = Math.Min(permille, 990) / 1000.0;
        var sleep = TimeSpan.FromTicks((long)(ran.Ticks * f / (1 - f)));
        return sleep < MaxSleep ? sleep : MaxSleep;
    }
}
