using Tern.Os.Userfault;

namespace Tern.Memory.Postcopy;

/// <summary>What the destination does with the pages it holds stale when post-copy begins.</summary>
public enum StalePageHandling
{
    /// <summary>
    /// Punch them out of the memfd, so that an access is a MISSING fault, and place each arriving page with
    /// UFFDIO_COPY into a fresh page. Costs the kernel a free and an allocation per page.
    /// </summary>
    Drop,

    /// <summary>
    /// Keep them in the memfd but unmapped (RAM registered in MINOR mode too, so an access faults), write each
    /// arriving page through the file into the page it replaces and map it with UFFDIO_CONTINUE. Every page the
    /// destination holds must be mapped first, or its first access faults too.
    /// </summary>
    Overwrite,
}

/// <summary>
/// Chooses <see cref="StalePageHandling"/> from the destination's RAM at the switch, by what each costs the kernel
/// (C probe on a 2-core kvm_pvm host, 512 MiB of 4 KiB memfd pages, docs/benchmarks.md): dropping a page 0.47-0.83
/// µs; placing one by UFFDIO_COPY 1.8 µs against 1.2 µs by pwrite and UFFDIO_CONTINUE; mapping a held page ahead
/// (MADV_POPULATE_WRITE) 0.95 µs. Overwriting pays for mapping the held pages and saves the drop and a third of
/// the placement on the stale ones: it wins while the held pages are about as many as the stale ones or fewer.
/// </summary>
public static class StalePageChoice
{
    public const double DropMicroseconds = 0.47;
    public const double PlacementSavedMicroseconds = 0.6;
    public const double MapHeldMicroseconds = 0.95;

    /// <param name="stalePopulated">Stale pages that hold data here (the rest are holes: nothing to drop).</param>
    /// <param name="heldPopulated">Pages held here (not stale) that hold data: Overwrite must map them first.</param>
    /// <param name="minorFaults">The kernel offers MINOR mode on memfd memory.</param>
    public static StalePageHandling Choose(long stalePopulated, long heldPopulated, bool minorFaults) =>
        minorFaults && stalePopulated > 0 && heldPopulated * MapHeldMicroseconds <= stalePopulated * (DropMicroseconds + PlacementSavedMicroseconds)
            ? StalePageHandling.Overwrite
            : StalePageHandling.Drop;

    /// <summary>
    /// Before the pause, with the stale pages named (PostcopyDiscard): chooses, and does the work that can be done
    /// while the guest still runs on the source: drops the stale pages, or maps the held ones. Returns the choice and
    /// how many pages it dropped or mapped. Huge-page RAM takes no post-copy: nothing is done for it.
    /// </summary>
    public static (StalePageHandling Handling, long Pages) PrepareAhead(GuestRam ram, Func<PageIndex, bool> stale)
    {
        if (ram.HugePages) return (StalePageHandling.Drop, 0);
        long stalePopulated = 0, heldPopulated = 0;
        foreach (var range in ram.PopulatedRanges())
            for (ulong p = range.FirstPage.Value; p < range.FirstPage.Value + range.PageCount; p++)
                if (stale(new PageIndex(p))) stalePopulated++;
                else heldPopulated++;
        var handling = Choose(stalePopulated, heldPopulated, UserfaultFd.SupportsMinorShmem);
        if (handling == StalePageHandling.Drop) return (handling, PageDrop.Drop(ram, stale));
        return (handling, PageRuns.ForEachPopulatedRun(ram, page => !stale(page), (first, count) => ram.Prefault(first.Address, count * PageSize.Bytes)));
    }
}
