using System.Diagnostics;
using System.Numerics;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// Pages the guest wrote again while the first pass was still on its way to them. Such a page is dirty at the sync that
/// ends the pass whatever the pass does, so sending it in the pass sends it twice; it waits for the next pass (or for
/// post-copy) instead, and the migration moves fewer bytes without a page ever going out later than its last write
/// would have made it. They are found by syncing the dirty log in the middle of the pass, which re-arms tracking for
/// the pages found: the guest then takes one more write fault on each page it writes again. So only in the first pass
/// (all of RAM: the long pass, where a busy guest rewrites its working set many times over), at most every
/// <see cref="MinPeriod"/>, never so often that a sync takes more than a twentieth of the time since the last one, and
/// only once post-copy has been asked for: then the pages left go once, after the switch, where the guest waits for
/// them anyway, and the whole working set's first copy is saved (post-copy switch: 0.51x of QEMU 7.2's total time).
/// In pre-copy the same syncs cut the total time too (0.75x of QEMU's on `seq:ws=512M` with XBZRLE) but left the
/// guest a tenth of the speed it keeps under QEMU during the migration (docs/benchmarks.md): not done there.
/// </summary>
internal sealed class DeferredPages
{
    /// <summary>The shortest time between two syncs in the pass.</summary>
    public static readonly TimeSpan MinPeriod = TimeSpan.FromMilliseconds(500);

    /// <summary>A sync in the pass may take at most this share of the time since the one before it.</summary>
    private const int PeriodPerSyncTime = 20;

    private readonly DirtyBitmap pages;
    private long lastSync;
    private TimeSpan lastSyncTook;
    private long[]? perVcpu;

    /// <param name="pageCount">Guest RAM in pages.</param>
    /// <param name="lastSync">When the dirty log was last synced (or tracking started), a <see cref="Stopwatch"/> timestamp.</param>
    /// <param name="lastSyncTook">How long that sync took (zero when it was the start of tracking).</param>
    public DeferredPages(ulong pageCount, long lastSync, TimeSpan lastSyncTook)
    {
        pages = new DirtyBitmap(pageCount);
        this.lastSync = lastSync;
        this.lastSyncTook = lastSyncTook;
    }

    /// <summary>Syncs the dirty log in the pass so far.</summary>
    public int Syncs { get; private set; }

    /// <summary>Pages the pass left for the next one.</summary>
    public long Skipped { get; private set; }

    /// <summary>Time spent syncing in the pass.</summary>
    public TimeSpan SyncTime { get; private set; }

    /// <summary>Whether a sync is due, <paramref name="sinceLastSync"/> after the last one, which took <paramref name="lastSyncTook"/>.</summary>
    public static bool Due(TimeSpan sinceLastSync, TimeSpan lastSyncTook) =>
        sinceLastSync >= MinPeriod && sinceLastSync >= lastSyncTook * PeriodPerSyncTime;

    /// <summary>Syncs the dirty log into the deferred pages if a sync is due; true if it synced.</summary>
    public bool SyncIfDue(IDirtyTracker tracker)
    {
        if (!Due(Stopwatch.GetElapsedTime(lastSync), lastSyncTook)) return false;
        var result = tracker.Sync(pages);
        lastSync = Stopwatch.GetTimestamp();
        lastSyncTook = result.Duration;
        SyncTime += result.Duration;
        Syncs++;
        perVcpu = Add(perVcpu, result.PerVcpuPages);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="page"/> was written again since the pass began and waits for the next pass; counts it
    /// as skipped when so.
    /// </summary>
    public bool Skip(PageIndex page)
    {
        if (!pages.IsSet(page)) return false;
        Skipped++;
        return true;
    }

    /// <summary>
    /// At the sync that ends the pass (its result <paramref name="ended"/>, already merged into <paramref name="dirty"/>):
    /// adds the deferred pages to the next pass's and returns the sync's result for the whole pass: every page written
    /// since the pass began, counted once, and each vCPU's share summed over the pass's syncs.
    /// </summary>
    public DirtySyncResult MergeInto(DirtyBitmap dirty, DirtySyncResult ended)
    {
        var into = dirty.Words;
        var from = pages.Words;
        long added = 0;
        for (int i = 0; i < from.Length; i++)
        {
            added += BitOperations.PopCount(from[i] & ~into[i]);
            into[i] |= from[i];
        }
        return ended with { DirtyPages = ended.DirtyPages + added, PerVcpuPages = Add(perVcpu, ended.PerVcpuPages) };
    }

    private static long[]? Add(long[]? sum, long[]? more)
    {
        if (more is null) return sum;
        if (sum is null) return (long[])more.Clone();
        for (int i = 0; i < Math.Min(sum.Length, more.Length); i++) sum[i] += more[i];
        return sum;
    }
}
