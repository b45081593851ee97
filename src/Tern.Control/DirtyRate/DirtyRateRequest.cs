namespace Tern.Control.DirtyRate;

/// <summary>
/// The arguments of <c>calc-dirty-rate</c> (QEMU 7.2): a window of <see cref="CalcTimeSeconds"/> seconds, measured by
/// <see cref="Mode"/>; page sampling looks at <see cref="SamplePagesPerGib"/> pages per GiB of RAM. <see cref="Problem"/>
/// names what is wrong with a request, in QEMU's limits.
/// </summary>
public sealed record DirtyRateRequest(long CalcTimeSeconds, long? SamplePagesPerGib = null, DirtyRateMode Mode = DirtyRateMode.PageSampling)
{
    /// <summary>QEMU's limits on the window, in seconds.</summary>
    public const long MinCalcTimeSeconds = 1, MaxCalcTimeSeconds = 60;

    /// <summary>QEMU's limits and default for <c>sample-pages</c> (pages per GiB).</summary>
    public const long MinSamplePages = 128, MaxSamplePages = 4096, DefaultSamplePages = 512;

    /// <summary>The pages per GiB page sampling uses: the request's, or QEMU's default.</summary>
    public int EffectiveSamplePages => (int)(SamplePagesPerGib ?? DefaultSamplePages);

    /// <summary>What is wrong with this request, naming the argument, or null when it is valid.</summary>
    public string? Problem()
    {
        if (CalcTimeSeconds is < MinCalcTimeSeconds or > MaxCalcTimeSeconds)
            return $"calc-time {CalcTimeSeconds} is out of range: the measurement window is {MinCalcTimeSeconds} to {MaxCalcTimeSeconds} seconds";
        if (SamplePagesPerGib is { } pages)
        {
            if (Mode != DirtyRateMode.PageSampling)
                return $"sample-pages applies to mode page-sampling only, not {Mode.ToQapi()}: leave it out or use mode page-sampling";
            if (pages is < MinSamplePages or > MaxSamplePages)
                return $"sample-pages {pages} is out of range: {MinSamplePages} to {MaxSamplePages} pages per GiB of guest RAM (default {DefaultSamplePages})";
        }
        return null;
    }
}
