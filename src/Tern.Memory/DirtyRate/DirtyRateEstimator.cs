namespace Tern.Memory.DirtyRate;

/// <summary>
/// Turns page-sampling counts into a dirty rate. Sampling n of the N pages of RAM uniformly without replacement and
/// finding c of them changed after t seconds estimates that c/n of all pages changed: N·c/n pages in t seconds. The
/// fraction's standard error is that of a hypergeometric proportion, sqrt(p(1-p)/n · (N-n)/(N-1)). Like a dirty log
/// synced at the window's ends, this counts each page once however often it was written in the window.
/// </summary>
public static class DirtyRateEstimator
{
    public static DirtyRateEstimate Estimate(int sampledPages, int changedPages, ulong totalPages, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampledPages, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(changedPages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(changedPages, sampledPages);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalPages, (ulong)sampledPages);
        if (window <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(window), window, "the window must be longer than zero");

        double n = sampledPages, total = totalPages, seconds = window.TotalSeconds;
        double fraction = changedPages / n;
        double finite = total > 1 ? (total - n) / (total - 1) : 0;
        double fractionError = Math.Sqrt(fraction * (1 - fraction) / n * finite);
        return new DirtyRateEstimate(fraction * total / seconds, fractionError * total / seconds, sampledPages, changedPages, window);
    }

    /// <summary>
    /// How many pages to sample for <paramref name="pagesPerGib"/> pages per GiB of RAM (QEMU's <c>sample-pages</c>):
    /// at least <see cref="MinimumSampledPages"/> (so a small guest is not judged by a handful of pages) and at most
    /// <paramref name="maxPages"/> and every page of RAM.
    /// </summary>
    public static int PagesToSample(int pagesPerGib, ulong ramPages, int maxPages = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pagesPerGib, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ramPages, 1UL);
        const ulong pagesPerGibOfRam = (1UL << 30) / PageSize.Bytes;
        ulong wanted = (ulong)Math.Ceiling((double)pagesPerGib * ramPages / pagesPerGibOfRam);
        wanted = Math.Max(wanted, MinimumSampledPages);
        return (int)Math.Min(Math.Min(wanted, ramPages), (ulong)Math.Max(maxPages, 1));
    }

    /// <summary>QEMU's smallest <c>sample-pages</c>; also the fewest pages a sample holds when RAM has that many.</summary>
    public const int MinimumSampledPages = 128;
}
