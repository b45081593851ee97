using Tern.Machine.Kvm;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine.Tests.Kvm;

/// <summary>
/// Runs a <see cref="CounterGuest"/> for whole passes with dirty tracking on, then checks that one sync reported
/// every page of every region and nothing the guest may not write, and that a sync with the guest paused is empty.
/// </summary>
internal static class DirtyPassCheck
{
    public static DirtySyncResult AssertWholePassesReported(KvmMachine machine, CounterGuest guest, int passes = 2)
    {
        var tracker = machine.DirtyTracker;
        var beats = Enumerable.Range(0, guest.Vcpus).Select(v => machine.Heartbeats.Count(v)).ToArray();
        // The guest beats once per pass: passes + 1 more beats per vCPU means at least `passes` whole passes.
        MachineWait.Until(() => Enumerable.Range(0, guest.Vcpus).All(v => machine.Heartbeats.Count(v) > beats[v] + passes),
            TimeSpan.FromSeconds(30), $"{passes} passes");
        machine.Pause();
        Assert.Null(machine.Fault);
        var dirty = new DirtyBitmap(machine.Memory.PageCount);
        var result = tracker.Sync(dirty);

        var expected = new HashSet<ulong>();
        for (int v = 0; v < guest.Vcpus; v++)
            for (ulong p = 0; p < guest.RegionPages; p++) expected.Add(guest.RegionStart(v) / PageSize.Bytes + p);
        var allowed = new HashSet<ulong>(expected) { CounterGuest.Counters / PageSize.Bytes };
        // The CPU sets accessed and dirty bits in the page tables.
        for (ulong a = CounterGuest.Pml4; a < CounterGuest.PageDirectories + 4 * 4096; a += 4096) allowed.Add(a / PageSize.Bytes);

        var reported = new HashSet<ulong>();
        foreach (var page in dirty.SetPages()) reported.Add(page.Value);
        var missing = expected.Except(reported).Order().ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} pages the guest wrote were not reported, first {string.Join(", ", missing.Take(8))}");
        Assert.Empty(reported.Except(allowed));
        Assert.Equal(reported.Count, result.DirtyPages);

        // Nothing runs: the next sync is empty (so every page reported was also cleared and re-protected).
        Assert.Equal(0, tracker.Sync(new DirtyBitmap(machine.Memory.PageCount)).DirtyPages);
        return result;
    }
}
