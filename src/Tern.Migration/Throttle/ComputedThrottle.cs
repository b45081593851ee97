namespace Tern.Migration.Throttle;

/// <summary>
/// Tern's auto-converge: computes the throttle that convergence needs from the measured dirty rate and bandwidth,
/// instead of stepping up until something gives. Pre-copy converges when each pass takes a fixed fraction of the one
/// before: the pages dirtied while a pass of T seconds goes out cost (dirty rate × wire bytes per page × T) to send,
/// so the next pass takes ρ = dirty rate × cost / bandwidth of this one. The throttle brings ρ down to
/// <see cref="TargetPassRatio"/>, no further, by slowing only the vCPUs that dirty the most (water-filling, see
/// <see cref="RateCaps.Level"/>), never above <c>max-cpu-throttle</c>, and lowers it again when the guest calms down.
/// Without per-vCPU dirty counts (a dirty bitmap) it slows every vCPU alike. When a rise of a vCPU's throttle did not
/// lower its measured rate (<see cref="ThrottleResponse"/>), it holds that vCPU where it is and says so, instead of
/// climbing to <c>max-cpu-throttle</c> for nothing; the hold ends when the rate falls after all or the vCPU needs less.
/// </summary>
public sealed class ComputedThrottle : IThrottleController
{
    /// <summary>A held vCPU is released when its rate falls by this share at the same throttle (the throttle bit late).</summary>
    private const double FallThatEndsAHold = 0.2;

    // The last period's measured rate and throttle of each vCPU, and the throttle each saturated vCPU is held at.
    private double[]? lastRates;
    private int[]? lastThrottle;
    private int?[] held = [];

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
        var rates = MeasuredRates(measured, seconds);
        var notes = UpdateHolds(rates, measured.ThrottlePercent, measured.WireBytesPerPage);
        var unthrottled = rates.Select((r, i) => RateCaps.Unthrottled(r, measured.ThrottlePercent[i])).ToArray();
        double level = RateCaps.Level(unthrottled, budget);
        if (double.IsPositiveInfinity(level))
            return ThrottlePlan.None(vcpus, $"converging without a throttle ({Describe(unthrottled.Sum(), measured, budget)})");

        var plan = new int[vcpus];
        for (int i = 0; i < vcpus; i++)
        {
            plan[i] = RateCaps.ThrottleFor(unthrottled[i], level, settings.MaxPercent);
            if (held[i] is { } hold && plan[i] > hold)
            {
                plan[i] = hold;
                notes.Add($"vCPU {i} held at {hold}% (more throttle did not lower its dirty rate)");
            }
            else if (held[i] is not null && plan[i] < held[i]) held[i] = null; // it needs less now: no hold to keep
        }
        string reason = $"{Describe(unthrottled.Sum(), measured, budget)}: {Slowed(plan)}";
        return new ThrottlePlan(plan, notes.Count == 0 ? reason : $"{reason}; {string.Join("; ", notes.Distinct())}");
    }

    /// <summary>
    /// Compares this period with the last: a vCPU whose throttle rose without its rate falling is held at its current
    /// throttle; a held vCPU whose rate fell at the same throttle is released. Returns what changed, for the reason.
    /// </summary>
    private List<string> UpdateHolds(double[] rates, IReadOnlyList<int> throttle, double wireBytesPerPage)
    {
        var notes = new List<string>();
        if (held.Length != rates.Length) held = new int?[rates.Length];
        if (lastRates is { } before && lastThrottle is { } was && before.Length == rates.Length)
        {
            for (int i = 0; i < rates.Length; i++)
            {
                if (ThrottleResponse.NotBiting(before[i], was[i], rates[i], throttle[i]))
                {
                    held[i] = throttle[i];
                    notes.Add($"throttle not biting on vCPU {i}: {was[i]}% -> {throttle[i]}% left its dirty rate at " +
                        $"{MiB(rates[i] * wireBytesPerPage)} of {MiB(before[i] * wireBytesPerPage)} MiB/s " +
                        $"(expected {MiB(ThrottleResponse.Predicted(before[i], was[i], throttle[i]) * wireBytesPerPage)})");
                }
                else if (held[i] is not null && throttle[i] == was[i] && rates[i] < before[i] * (1 - FallThatEndsAHold))
                {
                    held[i] = null;
                }
            }
        }
        lastRates = rates;
        lastThrottle = throttle.ToArray();
        return notes;
    }

    /// <summary>Each vCPU's measured rate in pages a second; spread evenly when the tracking cannot tell vCPUs apart.</summary>
    private static double[] MeasuredRates(ThrottleMeasurement measured, double seconds)
    {
        int vcpus = measured.VcpuCount;
        var rates = new double[vcpus];
        if (measured.DirtyPagesPerVcpu is { } per && per.Count == vcpus && per.Sum() > 0)
        {
            // Pages nobody was charged with (dirtied by the VMM, or counted before a ring was harvested) are shared
            // in proportion to what each vCPU dirtied.
            double scale = Math.Max(1, (double)measured.DirtyPages / per.Sum());
            for (int i = 0; i < vcpus; i++) rates[i] = per[i] * scale / seconds;
        }
        else
        {
            for (int i = 0; i < vcpus; i++) rates[i] = measured.DirtyPages / (double)vcpus / seconds;
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
