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
    public static long Drop(GuestRam ram, Func<PageIndex, bool> drop)
    {
        long dropped = 0;
        foreach (var range in ram.PopulatedRanges())
        {
            ulong first = range.Start.Value / PageSize.Bytes;
            ulong end = first + range.Length / PageSize.Bytes;
            ulong runStart = 0;
            bool inRun = false;
            for (ulong p = first; p <= end; p++)
            {
                bool stale = p < end && drop(new PageIndex(p));
                if (stale && !inRun) { runStart = p; inRun = true; }
                else if (!stale && inRun)
                {
                    MemFd.PunchHole(ram.BackingFile, runStart * PageSize.Bytes, (p - runStart) * PageSize.Bytes);
                    dropped += (long)(p - runStart);
                    inRun = false;
                }
            }
        }
        return dropped;
    }
}
