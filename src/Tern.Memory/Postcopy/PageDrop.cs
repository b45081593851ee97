using Tern.Os;

namespace Tern.Memory.Postcopy;

/// <summary>
/// Drops the backing of guest pages that hold stale data, so that a read of one is a missing page (served by
/// userfaultfd) instead of the stale copy. Only populated ranges are visited, and each run of pages to drop is one
/// hole punched in the memfd: punching a page that is already a hole costs nothing, so dropping again is cheap.
/// </summary>
public static class PageDrop
{
    /// <summary>Drops every populated page that <paramref name="drop"/> picks; returns how many held data.</summary>
    public static long Drop(GuestRam ram, Func<PageIndex, bool> drop) =>
        PageRuns.ForEachPopulatedRun(ram, drop, (first, count) => MemFd.PunchHole(ram.BackingFile, first.Address.Value, count * PageSize.Bytes));
}
