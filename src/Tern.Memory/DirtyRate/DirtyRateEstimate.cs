namespace Tern.Memory.DirtyRate;

/// <summary>
/// A dirty rate estimated from a sample of pages: how many distinct pages the guest changed per second over one
/// window, and how uncertain that is.
/// </summary>
/// <param name="DirtyPagesPerSecond">Distinct pages changed in the window, extrapolated to all of RAM, per second.</param>
/// <param name="StandardErrorPagesPerSecond">The sampling error of that figure (one standard error; 0 when every page was sampled).</param>
/// <param name="SampledPages">Pages looked at.</param>
/// <param name="ChangedPages">Of those, pages whose contents changed over the window.</param>
/// <param name="Window">How long the window lasted.</param>
public readonly record struct DirtyRateEstimate(
    double DirtyPagesPerSecond,
    double StandardErrorPagesPerSecond,
    int SampledPages,
    int ChangedPages,
    TimeSpan Window)
{
    /// <summary>The rate in MiB/s (QEMU's "MB/s" in <c>query-dirty-rate</c>).</summary>
    public double MibPerSecond => DirtyPagesPerSecond * PageSize.Bytes / (1 << 20);

    public double StandardErrorMibPerSecond => StandardErrorPagesPerSecond * PageSize.Bytes / (1 << 20);
}
