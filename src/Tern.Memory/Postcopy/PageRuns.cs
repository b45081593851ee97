namespace Tern.Memory.Postcopy;

/// <summary>Walks the runs of consecutive populated pages of guest RAM that a predicate picks (holes are skipped unread).</summary>
public static class PageRuns
{
    /// <summary>Calls <paramref name="run"/> once per run of populated pages that <paramref name="pick"/> picks; returns how many pages they hold.</summary>
    public static long ForEachPopulatedRun(GuestRam ram, Func<PageIndex, bool> pick, Action<PageIndex, ulong> run)
    {
        long pages = 0;
        foreach (var range in ram.PopulatedRanges())
        {
            ulong first = range.FirstPage.Value;
            ulong end = first + range.PageCount;
            ulong runStart = 0;
            bool inRun = false;
            for (ulong p = first; p <= end; p++)
            {
                bool picked = p < end && pick(new PageIndex(p));
                if (picked && !inRun) { runStart = p; inRun = true; }
                else if (!picked && inRun)
                {
                    run(new PageIndex(runStart), p - runStart);
                    pages += (long)(p - runStart);
                    inRun = false;
                }
            }
        }
        return pages;
    }
}
