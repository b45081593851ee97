using Tern.Memory;
using Tern.Memory.DirtyRate;

namespace Tern.Control.DirtyRate;

/// <summary>
/// The dirty rate for a live display, by page sampling between two calls: each call counts how many pages of the
/// previous call's sample changed since, then draws a fresh random sample for the next window (a fresh one each time,
/// so that a workload with hot and cold pages is not judged forever by one draw). It only reads guest memory: the
/// guest runs at full speed, which a display that kept the dirty log on could not promise.
/// </summary>
public sealed class PeriodicPageSampler(int pagesPerGib, int maxPages, Random? random = null)
{
    /// <summary>Pages per GiB a display samples: twice QEMU's default, for a steadier figure.</summary>
    public const int DisplayPagesPerGib = 1024;

    /// <summary>
    /// At most this many pages a window, however large the guest (a 4 GiB guest has them): each page costs about 5 µs
    /// here (an lseek for holes, a copy, a hash), twice a window, and the VM host holds its lock meanwhile, so a display
    /// sample stays near 40 ms at most.
    /// </summary>
    public const int DisplayMaxPages = 4096;

    private readonly Random random = random ?? Random.Shared;
    private IGuestMemory? memory;
    private PageSample? sample;

    public PeriodicPageSampler() : this(DisplayPagesPerGib, DisplayMaxPages)
    {
    }

    /// <summary>
    /// The rate over the window since the previous call (null on the first call for this memory), and a new sample
    /// for the next window.
    /// </summary>
    public DirtyRateEstimate? Next(IGuestMemory guestMemory)
    {
        DirtyRateEstimate? estimate = null;
        if (sample is not null && ReferenceEquals(memory, guestMemory))
        {
            var window = sample.Age;
            if (window > TimeSpan.Zero)
                estimate = DirtyRateEstimator.Estimate(sample.Count, sample.CountChanged(), guestMemory.PageCount, window);
        }
        memory = guestMemory;
        sample = PageSample.Take(guestMemory, DirtyRateEstimator.PagesToSample(pagesPerGib, guestMemory.PageCount, maxPages), random);
        return estimate;
    }

    /// <summary>Forgets the current sample (the next call starts a new window).</summary>
    public void Reset()
    {
        sample = null;
        memory = null;
    }
}
