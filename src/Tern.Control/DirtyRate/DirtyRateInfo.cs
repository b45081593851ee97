namespace Tern.Control.DirtyRate;

/// <summary>
/// QAPI <c>DirtyRateInfo</c> (<c>query-dirty-rate</c>, QEMU 7.2), plus what Tern knows about how it was measured.
/// </summary>
/// <param name="DirtyRateMib">The result in MiB/s, once <see cref="DirtyRateStatus.Measured"/>.</param>
/// <param name="StartTimeSeconds">When the last measurement started, in seconds since the Unix epoch (0 before any).</param>
/// <param name="CalcTimeSeconds">Its requested window.</param>
/// <param name="SamplePages">Pages per GiB sampled (page-sampling; 0 in the other modes, as in QEMU).</param>
/// <param name="VcpuDirtyRatesMib">Per vCPU, MiB/s (dirty-ring mode, once measured).</param>
/// <param name="SampledPages">Tern: pages hashed (page-sampling).</param>
/// <param name="ChangedPages">Tern: of those, pages that changed in the window (page-sampling).</param>
/// <param name="DirtyPages">Tern: distinct pages dirtied in the window (measured or, for page sampling, estimated).</param>
/// <param name="WindowMs">Tern: how long the window actually lasted, in milliseconds.</param>
/// <param name="StandardErrorMib">Tern: the page-sampling estimate's standard error in MiB/s.</param>
public sealed record DirtyRateInfo(
    DirtyRateStatus Status,
    DirtyRateMode Mode,
    long StartTimeSeconds = 0,
    long CalcTimeSeconds = 0,
    long SamplePages = 0,
    long? DirtyRateMib = null,
    IReadOnlyList<long>? VcpuDirtyRatesMib = null,
    long? SampledPages = null,
    long? ChangedPages = null,
    long? DirtyPages = null,
    long? WindowMs = null,
    double? StandardErrorMib = null)
{
    public static DirtyRateInfo Unstarted { get; } = new(DirtyRateStatus.Unstarted, DirtyRateMode.PageSampling);
}
