using Tern.Machine.Kvm;
using Tern.Memory.Dirty;

namespace Tern.Machine.Tests.Kvm;

/// <summary>Re-protecting the dirty log in small KVM_CLEAR_DIRTY_LOG chunks loses no page at the chunk boundaries.</summary>
[Collection(KvmCollection.Name)]
public sealed class DirtyLogClearChunkTests
{
    [Theory]
    [InlineData(1)] // 64 pages a CLEAR
    [InlineData(3)] // boundaries that do not divide the regions: the last chunk of a run is partial
    public void Small_clear_chunks_report_every_page_pass_after_pass(int words)
    {
        RequireKvm.Present();
        const ulong memory = 32 << 20;
        var guest = new CounterGuest(2, 4 << 20, memory);
        using var machine = KvmMachine.Create(new KvmMachineOptions(memory, 2) { DirtyLogClearWords = words });
        machine.Load(guest.Build());
        machine.Resume();
        MachineWait.Until(() => machine.Heartbeats.TotalCount > 4, TimeSpan.FromSeconds(10), "heartbeats");
        machine.DirtyTracker.Start();
        DirtyPassCheck.AssertWholePassesReported(machine, guest);
        // Again: pages are reported only if the chunked CLEAR re-armed write protection on every one of them.
        machine.Resume();
        DirtyPassCheck.AssertWholePassesReported(machine, guest);
        machine.DirtyTracker.Stop();
    }

    /// <summary>
    /// The switchover's last sync reports what the guest wrote but leaves it unprotected (no KVM_CLEAR_DIRTY_LOG: the
    /// tracking stops next), so the same pages read dirty again; an ordinary sync had re-armed them.
    /// </summary>
    [Fact]
    public void The_last_sync_reports_the_pages_without_re_arming_them()
    {
        RequireKvm.Present();
        const ulong memory = 32 << 20;
        var guest = new CounterGuest(1, 2 << 20, memory);
        using var machine = KvmMachine.Create(new KvmMachineOptions(memory, 1));
        machine.Load(guest.Build());
        machine.Resume();
        MachineWait.Until(() => machine.Heartbeats.TotalCount > 4, TimeSpan.FromSeconds(10), "heartbeats");
        var tracker = machine.DirtyTracker;
        tracker.Start();
        long beats = machine.Heartbeats.Count(0);
        MachineWait.Until(() => machine.Heartbeats.Count(0) > beats + 2, TimeSpan.FromSeconds(30), "two passes");
        machine.Pause();

        var last = tracker.SyncLast(new DirtyBitmap(machine.Memory.PageCount));
        Assert.True(last.DirtyPages >= (long)guest.RegionPages, $"{last.DirtyPages} pages reported, the guest writes {guest.RegionPages}");
        // Not re-armed: the paused guest wrote nothing, yet the pages still read dirty.
        Assert.Equal(last.DirtyPages, tracker.Sync(new DirtyBitmap(machine.Memory.PageCount)).DirtyPages);
        // An ordinary sync re-armed them: nothing is dirty now.
        Assert.Equal(0, tracker.Sync(new DirtyBitmap(machine.Memory.PageCount)).DirtyPages);
        tracker.Stop();
    }

    [Fact]
    public void A_clear_chunk_below_one_word_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new KvmMachineOptions(16 << 20, 1) { DirtyLogClearWords = 0 });
        Assert.Contains("at least one word", e.Message);
    }
}
