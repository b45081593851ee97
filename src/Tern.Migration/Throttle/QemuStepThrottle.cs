namespace Tern.Migration.Throttle;

/// <summary>
/// QEMU 7.2's auto-converge, for compatibility: when the guest dirtied more than <c>throttle-trigger-threshold</c>
/// percent of the bytes sent in a period, twice, the throttle of every vCPU starts at <c>cpu-throttle-initial</c> or
/// rises by <c>cpu-throttle-increment</c> (with <c>cpu-throttle-tailslow</c>, by no more than it takes to bring the
/// dirty rate to the threshold), up to <c>max-cpu-throttle</c>. It never lowers the throttle during a migration and
/// slows every vCPU alike, whether it dirties memory or not: the behaviour the computed throttle improves on.
/// </summary>
public sealed class QemuStepThrottle : IThrottleController
{
    private int periodsAboveThreshold;

    public ThrottlePlan Next(ThrottleMeasurement measured, ThrottleSettings settings)
    {
        int now = measured.ThrottlePercent.Count == 0 ? 0 : measured.ThrottlePercent.Max();
        double dirtyBytes = measured.DirtyPages * (double)Tern.Memory.PageSize.Bytes;
        double thresholdBytes = measured.WireBytes * (double)settings.TriggerThresholdPercent / 100;
        if (dirtyBytes <= thresholdBytes || ++periodsAboveThreshold < 2)
            return ThrottlePlan.Uniform(measured.VcpuCount, now, now == 0 ? "below the trigger threshold" : "unchanged");
        periodsAboveThreshold = 0;

        int next;
        if (now == 0) next = settings.InitialPercent;
        else
        {
            int step = settings.IncrementPercent;
            if (settings.Tailslow)
            {
                double cpuNow = 100 - now;
                double cpuIdeal = cpuNow * (thresholdBytes / dirtyBytes);
                step = (int)Math.Min(cpuNow - cpuIdeal, settings.IncrementPercent);
            }
            next = now + step;
        }
        next = Math.Min(next, settings.MaxPercent);
        return ThrottlePlan.Uniform(measured.VcpuCount, next,
            $"the guest dirtied {dirtyBytes / (1 << 20):0.0} MiB against {measured.WireBytes / (double)(1 << 20):0.0} MiB sent, " +
            $"above {settings.TriggerThresholdPercent}% twice: throttle {now}% -> {next}% (QEMU's step algorithm)");
    }
}
