using Tern.Migration.Throttle;

namespace Tern.Migration.Tests.Throttle;

/// <summary>Made-up sync periods for the throttle decisions: one second each, whole pages on the wire.</summary>
internal static class Measurements
{
    public const double MiB = 1 << 20;
    public const double PageCost = 4096 + 8;

    /// <summary>A one-second period on a link of <paramref name="bandwidthMiB"/> MiB/s, each vCPU dirtying the given pages.</summary>
    public static ThrottleMeasurement PerVcpu(double bandwidthMiB, long[] dirtyPerVcpu, int[]? throttle = null) =>
        new(TimeSpan.FromSeconds(1), (long)(bandwidthMiB * MiB), dirtyPerVcpu.Sum(), dirtyPerVcpu,
            throttle ?? new int[dirtyPerVcpu.Length], PageCost, bandwidthMiB * MiB, 300);

    /// <summary>The same without per-vCPU counts, as a dirty bitmap reports it.</summary>
    public static ThrottleMeasurement Total(double bandwidthMiB, long dirty, int vcpus, int throttle = 0) =>
        new(TimeSpan.FromSeconds(1), (long)(bandwidthMiB * MiB), dirty, null,
            Enumerable.Repeat(throttle, vcpus).ToArray(), PageCost, bandwidthMiB * MiB, 300);

    /// <summary>Pages a second of whole pages that fill <paramref name="mibPerSecond"/> of wire.</summary>
    public static long PagesOf(double mibPerSecond) => (long)(mibPerSecond * MiB / PageCost);

    /// <summary>What the guest would dirty under <paramref name="plan"/>, from its unthrottled per-vCPU rates.</summary>
    public static double RateUnder(ThrottlePlan plan, long[] unthrottled) =>
        unthrottled.Select((r, i) => r * (1 - plan.PercentPerVcpu[i] / 100.0)).Sum();
}
