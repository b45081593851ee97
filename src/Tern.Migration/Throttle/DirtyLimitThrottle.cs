namespace Tern.Migration.Throttle;

/// <summary>
/// QEMU's dirty limit (<c>set-vcpu-dirty-limit</c>, the <c>dirty-limit</c> capability with <c>vcpu-dirty-limit</c>):
/// each vCPU may dirty at most its limit in MB/s; a vCPU above it is throttled just enough to bring it there, and a
/// vCPU below it (one that computes or only reads) runs at full speed. The throttle follows the measured rate, so it
/// eases off when the vCPU does.
/// </summary>
public sealed class DirtyLimitThrottle(IReadOnlyList<double?> limitMegabytesPerSecond) : IThrottleController
{
    /// <summary>Each vCPU's limit in MB/s (10^6 bytes a second, as QEMU counts it), null for none.</summary>
    public IReadOnlyList<double?> Limits { get; } = limitMegabytesPerSecond;

    public ThrottlePlan Next(ThrottleMeasurement measured, ThrottleSettings settings)
    {
        int vcpus = measured.VcpuCount;
        double seconds = measured.Period.TotalSeconds;
        if (seconds <= 0 || measured.DirtyPagesPerVcpu is not { } per || per.Count != vcpus)
            return new ThrottlePlan(measured.ThrottlePercent.ToArray(), "per-vCPU dirty rates are not known (the dirty limit needs the dirty ring)");
        var plan = new int[vcpus];
        var parts = new List<string>();
        for (int i = 0; i < vcpus; i++)
        {
            if (i >= Limits.Count || Limits[i] is not { } limit) continue;
            double bytesPerSecond = RateCaps.Unthrottled(per[i] * (double)Tern.Memory.PageSize.Bytes / seconds, measured.ThrottlePercent[i]);
            plan[i] = RateCaps.ThrottleFor(bytesPerSecond, limit * 1e6, settings.MaxPercent);
            if (plan[i] > 0) parts.Add($"vCPU {i} would dirty {bytesPerSecond / 1e6:0.0} MB/s, limit {limit:0.#} MB/s: throttle {plan[i]}%");
        }
        return new ThrottlePlan(plan, parts.Count == 0 ? "every vCPU is within its dirty limit" : string.Join("; ", parts));
    }
}
