using System.Numerics;
using Tern.Memory.Dirty;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// The working set the XBZRLE cache is sized for: every page the guest has written since the migration began (the
/// union of the dirty syncs). Any of them may be written again, and then goes as a delta only if its last sent
/// version is still cached, however many passes ago that was. A guest that sweeps 512 MiB in order rewrites each page
/// once per sweep, and a sweep spans several passes: the pages dirtied in two consecutive passes (what this replaced)
/// are then a slice of the sweep, and the cache sized from that slice (11-44 MiB) missed almost every page and was
/// shrunk, losing its entries, whenever a pass saw a thinner slice. The union only grows, so the cache does not shrink
/// mid-migration; the host memory budget caps it (<see cref="XbzrleCacheSizer"/>).
/// </summary>
public sealed class MigrationWorkingSet(ulong pageCount)
{
    private readonly DirtyBitmap written = new(pageCount);

    /// <summary>Adds the pages dirtied since the last sync; returns the working set in pages.</summary>
    public long Observe(DirtyBitmap dirtied)
    {
        if (dirtied.PageCount != written.PageCount)
            throw new ArgumentException($"a bitmap of {dirtied.PageCount} pages for a guest of {written.PageCount}", nameof(dirtied));
        var now = dirtied.Words;
        var seen = written.Words;
        long count = 0;
        for (int i = 0; i < now.Length; i++)
        {
            seen[i] |= now[i];
            count += BitOperations.PopCount(seen[i]);
        }
        return count;
    }
}
