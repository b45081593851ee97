using Tern.Machine.Kvm;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine.Tests.Kvm;

[Collection(KvmCollection.Name)]
public sealed class DirtyTrackingTests
{
    [Theory]
    [InlineData(DirtyTrackingKind.Log)]
    [InlineData(DirtyTrackingKind.Ring)]
    public void Sync_reports_every_page_the_guest_wrote_and_nothing_outside_what_it_may_write(DirtyTrackingKind kind)
    {
        RequireKvm.Present();
        const ulong memory = 64 << 20;
        var guest = new CounterGuest(2, 8 << 20, memory);
        using var machine = KvmMachine.Create(new KvmMachineOptions(memory, 2) { DirtyTracking = kind });
        machine.Load(guest.Build());
        machine.Resume();
        MachineWait.Until(() => machine.Heartbeats.TotalCount > 10, TimeSpan.FromSeconds(10), "heartbeats");

        var tracker = machine.DirtyTracker;
        tracker.Start();
        long[] beats = [machine.Heartbeats.Count(0), machine.Heartbeats.Count(1)];
        // The guest beats once per pass: two more beats per vCPU means at least one whole pass after tracking started,
        // so every region page was written again.
        MachineWait.Until(() => machine.Heartbeats.Count(0) > beats[0] + 2 && machine.Heartbeats.Count(1) > beats[1] + 2, TimeSpan.FromSeconds(10), "passes");
        machine.Pause();
        var dirty = new DirtyBitmap(machine.Memory.PageCount);
        var result = tracker.Sync(dirty);

        var expected = new HashSet<ulong>();
        for (int v = 0; v < 2; v++)
            for (ulong p = 0; p < guest.RegionPages; p++) expected.Add(guest.RegionStart(v) / PageSize.Bytes + p);
        var allowed = new HashSet<ulong>(expected) { CounterGuest.Counters / PageSize.Bytes };
        // The CPU sets accessed and dirty bits in the page tables.
        for (ulong a = CounterGuest.Pml4; a < CounterGuest.PageDirectories + 4 * 4096; a += 4096) allowed.Add(a / PageSize.Bytes);

        var reported = new HashSet<ulong>();
        foreach (var page in dirty.SetPages()) reported.Add(page.Value);
        Assert.Empty(expected.Except(reported));
        Assert.Empty(reported.Except(allowed));
        Assert.Equal(reported.Count, result.DirtyPages);

        // Nothing runs: the next sync is empty.
        var again = new DirtyBitmap(machine.Memory.PageCount);
        Assert.Equal(0, tracker.Sync(again).DirtyPages);
        Assert.Equal(0, again.Count());

        if (kind == DirtyTrackingKind.Ring)
        {
            Assert.True(tracker.ReportsPerVcpu);
            Assert.NotNull(result.PerVcpuPages);
            for (int v = 0; v < 2; v++)
                Assert.True(result.PerVcpuPages![v] >= (long)guest.RegionPages, $"vCPU {v} dirtied {result.PerVcpuPages[v]} pages, expected at least {guest.RegionPages}");
        }
        tracker.Stop();
    }

    [Theory]
    [InlineData(DirtyTrackingKind.Log)]
    [InlineData(DirtyTrackingKind.Ring)]
    public void Writes_by_the_host_are_not_reported_and_tracking_can_restart(DirtyTrackingKind kind)
    {
        RequireKvm.Present();
        using var machine = KvmMachine.Create(new KvmMachineOptions(16 << 20, 1) { DirtyTracking = kind });
        var tracker = machine.DirtyTracker;
        tracker.Start();
        machine.Memory.WritePage(new PageIndex(100), new byte[PageSize.Bytes]);
        var dirty = new DirtyBitmap(machine.Memory.PageCount);
        Assert.Equal(0, tracker.Sync(dirty).DirtyPages);
        tracker.Stop();
        tracker.Start();
        Assert.Equal(0, tracker.Sync(dirty).DirtyPages);
        tracker.Stop();
    }
}
