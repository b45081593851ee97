namespace Tern.Migration.Throttle;

/// <summary>
/// What the RAM loop measured over one sync period, as the throttle decisions see it.
/// </summary>
/// <param name="Period">Time between the two dirty-log syncs that bound the period.</param>
/// <param name="WireBytes">Bytes put on the wire in the period (QEMU's <c>bytes_xfer_period</c>).</param>
/// <param name="DirtyPages">Pages the guest dirtied in the period, all vCPUs together.</param>
/// <param name="DirtyPagesPerVcpu">
/// Pages each vCPU dirtied in the period, where the dirty tracking can tell (KVM's dirty ring, the simulated
/// backend); null with a dirty bitmap, which cannot. Entries may sum to less than <paramref name="DirtyPages"/>.
/// </param>
/// <param name="ThrottlePercent">The throttle each vCPU ran under during the period.</param>
/// <param name="WireBytesPerPage">What a dirty page has recently cost on the wire, after XBZRLE and compression.</param>
/// <param name="BandwidthBytesPerSecond">The link's measured rate; 0 while unknown.</param>
/// <param name="DowntimeLimitMs">The operator's downtime budget.</param>
public sealed record ThrottleMeasurement(
    TimeSpan Period,
    long WireBytes,
    long DirtyPages,
    IReadOnlyList<long>? DirtyPagesPerVcpu,
    IReadOnlyList<int> ThrottlePercent,
    double WireBytesPerPage,
    double BandwidthBytesPerSecond,
    long DowntimeLimitMs)
{
    public int VcpuCount => ThrottlePercent.Count;
}

/// <summary>The throttle each vCPU should run under from now on, and why (for the log and <c>query-migrate</c>).</summary>
public sealed record ThrottlePlan(IReadOnlyList<int> PercentPerVcpu, string Reason)
{
    /// <summary>The highest throttle of any vCPU: QEMU's <c>cpu-throttle-percentage</c>.</summary>
    public int MaxPercent => PercentPerVcpu.Count == 0 ? 0 : PercentPerVcpu.Max();

    public static ThrottlePlan None(int vcpus, string reason) => new(new int[vcpus], reason);

    public static ThrottlePlan Uniform(int vcpus, int percent, string reason) => new(Enumerable.Repeat(percent, vcpus).ToArray(), reason);
}

/// <summary>Decides the throttle for the next period from the last one's measurement.</summary>
public interface IThrottleController
{
    ThrottlePlan Next(ThrottleMeasurement measured, ThrottleSettings settings);
}
