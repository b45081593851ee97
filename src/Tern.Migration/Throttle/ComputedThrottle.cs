namespace Tern.Migration.Throttle;

/// <summary>
/// Tern's auto-converge: computes the throttle that convergence needs from the measured dirty rate and bandwidth,
/// instead of stepping up until something gives. Pre-copy converges when each pass takes a fixed fraction of the one
/// before: the pages dirtied while a pass of T seconds goes out cost (dirty rate × wire bytes per page × T) to send,
/// so the next pass takes ρ = dirty rate × cost / bandwidth of this one. The throttle brings ρ down to
/// <see cref="TargetPassRatio"/>, no further, by slowing only the vCPUs that dirty the most (water-filling, see
/// <see cref="RateCaps.Level"/>), never above <c>max-cpu-throttle</c>, and lowers it again when the guest calms down.
/// Without per-vCPU dirty counts (a dirty bitmap) it slows every vCPU alike.
/// </summary>
public sealed class ComputedThrottle : IThrottleController
{
    /// <summary>
    /// Each pass at most half as long as the one before: from a 512 MiB working set and a 300 ms budget on a
    /// 100 MiB/s link that is about five passes. A ratio closer to 1 throttles less but adds passes while the guest is
    /// slowed; one closer to 0 is a pause under another name.
    /// </summary>
    public const double TargetPassRatio = 0.5;

    public ThrottlePlan Next(ThrottleMeasurement measured, ThrottleSettings settings)
    {
        int vcpus = measured.VcpuCount;
        double seconds = measured.Period.TotalSeconds;
        if (measured.BandwidthBytesPerSecond <= 0 || seconds <= 0 || vcpus == 0)
            return new ThrottlePlan(measured.ThrottlePercent.ToArray(), "waiting for a measured bandwidth");

        // Dirty pages a second that the link can absorb at the target ratio.
        double budget = TargetPassRatio * measured.BandwidthBytesPerSecond / Math.Max(1, measured.WireBytesPerPage);
        var unthrottled = UnthrottledRates(measured, seconds);
        double level = RateCaps.Level(unthrottled, budget);
        if (double.IsPositiveInfinity(level))
            return ThrottlePlan.None(vcpus, $"converging without a throttle ({Describe(unthrottled.Sum(), measured, budget)})");

        var plan = new int[vcpus];
        for (int i = 0; i < vcpus; i++) plan[i] = RateCaps.ThrottleFor(unthrottled[i], level, settings.MaxPercent);
        return new ThrottlePlan(plan, $"{Describe(unthrottled.Sum(), measured, budget)}: {Slowed(plan)}");
    }

    /// <summary>Each vCPU's rate as if unthrottled; spread evenly when the tracking cannot tell vCPUs apart.</summary>
    private static double[] UnthrottledRates(ThrottleMeasurement measured, double seconds)
    {
        int vcpus = measured.VcpuCount;
        var rates = new double[vcpus];
        if (measured.DirtyPagesPerVcpu is { } per && per.Count == vcpus && per.Sum() > 0)
        {
            // Pages nobody was charged with (dirtied by the VMM, or counted before a ring was harvested) are shared
            // in proportion to what each vCPU dirtied.
            double scale = Math.Max(1, (double)measured.DirtyPages / per.Sum());
            for (int i = 0; i < vcpus; i++) rates[i] = RateCaps.Unthrottled(per[i] * scale / seconds, measured.ThrottlePercent[i]);
        }
        else
        {
            for (int i = 0; i < vcpus; i++) rates[i] = RateCaps.Unthrottled(measured.DirtyPages / (double)vcpus / seconds, measured.ThrottlePercent[i]);
        }
        return rates;
    }

    private static string Describe(double unthrottledPagesPerSecond, ThrottleMeasurement m, double budget) =>
        $"the guest would dirty {MiB(unthrottledPagesPerSecond * m.WireBytesPerPage)} MiB/s of wire bytes unthrottled, " +
        $"the link sends {MiB(m.BandwidthBytesPerSecond)} MiB/s, convergence needs at most {MiB(budget * m.WireBytesPerPage)} MiB/s";

    private static string Slowed(int[] plan)
    {
        var parts = plan.Select((p, i) => (p, i)).Where(x => x.p > 0).Select(x => $"vCPU {x.i} {x.p}%").ToArray();
        return parts.Length == 0 ? "no vCPU needs slowing" : "throttle " + string.Join(", ", parts);
    }

    private static string MiB(double bytes) => (bytes / (1 << 20)).ToString("0.0");
}
