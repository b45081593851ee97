using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Engine.Source;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// <see cref="DeferredPages"/>' arithmetic: when a sync in the first pass is due, and what the sync that ends the pass
/// reports once the deferred pages join the next pass's.
/// </summary>
public sealed class DeferredPagesTests
{
    [Theory]
    [InlineData(100, 0, false)]   // too soon after the last sync
    [InlineData(500, 0, true)]
    [InlineData(500, 30, false)]  // a sync of 30 ms may come only every 600 ms
    [InlineData(600, 30, true)]
    [InlineData(5000, 1, true)]
    public void A_sync_in_the_pass_is_due_after_the_minimum_period_and_twenty_times_the_last_syncs_time(int sinceMs, int tookMs, bool due)
    {
        Assert.Equal(due, DeferredPages.Due(TimeSpan.FromMilliseconds(sinceMs), TimeSpan.FromMilliseconds(tookMs)));
    }

    [Fact]
    public void The_pass_ending_sync_reports_each_page_written_in_the_pass_once_and_sums_the_vcpus_shares()
    {
        const ulong pages = 256;
        var deferred = new DeferredPages(pages, 0, TimeSpan.Zero);
        // Nothing synced in the pass: nothing is skipped, and the ending sync's result stands as it is.
        Assert.False(deferred.Skip(new PageIndex(3)));
        var dirty = new DirtyBitmap(pages);
        dirty.Set(new PageIndex(3));
        var ended = new DirtySyncResult(1, [1, 0], TimeSpan.FromMilliseconds(2));

        var merged = deferred.MergeInto(dirty, ended);

        Assert.Equal(ended.DirtyPages, merged.DirtyPages);
        Assert.Equal([1L, 0L], merged.PerVcpuPages!);
        Assert.Equal(0, deferred.Skipped);
    }

    [Fact]
    public void Pages_a_running_guest_wrote_since_the_pass_began_are_skipped_and_join_the_next_pass_counted_once()
    {
        using var guest = SimMachine.Create(new SimMachineOptions(16 << 20, 1, WorkloadSpec.Parse("seq:ws=4M")));
        var tracker = guest.DirtyTracker;
        tracker.Start();
        var deferred = new DeferredPages(guest.Memory.PageCount, System.Diagnostics.Stopwatch.GetTimestamp(), TimeSpan.Zero);
        guest.Resume();
        Assert.False(deferred.SyncIfDue(tracker)); // not yet: the minimum period has not passed
        Thread.Sleep(DeferredPages.MinPeriod + TimeSpan.FromMilliseconds(50));
        Assert.True(deferred.SyncIfDue(tracker));
        guest.Pause();

        // The guest's working set was written since the pass began: those pages wait; a page it never writes does not.
        var written = Enumerable.Range(0, (int)guest.Memory.PageCount).Select(p => new PageIndex((ulong)p)).Where(p => deferred.Skip(p)).ToList();
        Assert.NotEmpty(written);
        Assert.Equal(written.Count, deferred.Skipped);
        Assert.False(deferred.Skip(new PageIndex(guest.Memory.PageCount - 1)));
        Assert.Equal(1, deferred.Syncs);

        // The sync that ends the pass found one of them again, and one page more: every page counts once.
        var dirty = new DirtyBitmap(guest.Memory.PageCount);
        dirty.Set(written[0]);
        dirty.Set(new PageIndex(guest.Memory.PageCount - 1));
        var merged = deferred.MergeInto(dirty, new DirtySyncResult(2, null, TimeSpan.FromMilliseconds(1)));

        Assert.Equal(written.Count + 1, merged.DirtyPages);
        Assert.Equal(written.Count + 1, dirty.Count());
        Assert.All(written, p => Assert.True(dirty.IsSet(p)));
    }
}
