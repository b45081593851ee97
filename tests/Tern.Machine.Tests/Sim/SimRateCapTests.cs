using System.Diagnostics;
using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine.Tests.Sim;

/// <summary>rate= caps how fast the simulated guest dirties memory, as it does the real guest, and the dirty log agrees.</summary>
public sealed class SimRateCapTests
{
    [Fact]
    public void A_guest_capped_at_16_MiB_per_second_dirties_about_16_MiB_per_second_and_keeps_beating()
    {
        var spec = WorkloadSpec.Parse("seq:ws=64M,rate=16");
        ulong writesPerSecond = GuestImageBuilder.RateWritesPerSecond(spec);
        Assert.Equal(16UL * 256, writesPerSecond); // one write per 4 KiB page

        using var machine = SimMachine.Create(new SimMachineOptions(128 << 20, 1, spec));
        ulong before = machine.ReadCounters()[0];
        machine.DirtyTracker.Start();
        var clock = Stopwatch.StartNew(); // starts before the guest does and stops after it: an upper bound on its running time
        machine.Resume();
        Thread.Sleep(2000);
        machine.Pause();
        double seconds = clock.Elapsed.TotalSeconds;
        // Paused, so the counter and the dirty log describe the same writes.
        ulong writes = machine.ReadCounters()[0] - before;
        long dirtyPages = machine.DirtyTracker.Sync(new DirtyBitmap(machine.Memory.PageCount)).DirtyPages;
        long beats = machine.Heartbeats.Count(0);

        // Never faster than the cap (plus the one chunk the guest may write ahead of its clock).
        double ceiling = writesPerSecond * seconds + GuestImageBuilder.ChunkWrites(spec);
        Assert.True(writes <= ceiling, $"{writes} writes in at most {seconds:0.00} s: the cap allows {ceiling:0}");
        // And not far below it: generous, so a busy host cannot fail it, but a guest stuck in its rate wait would.
        double mibPerSecond = writes * (double)PageSize.Bytes / (1 << 20) / seconds;
        Assert.True(mibPerSecond >= 4, $"the guest dirtied {mibPerSecond:0.0} MiB/s under a 16 MiB/s cap");

        // Through the dirty log: one distinct page a write (the working set has not wrapped) plus the control page.
        Assert.True(writes < 64 * 256, "the test assumes the working set has not wrapped");
        Assert.InRange(dirtyPages, (long)writes, (long)writes + 1);
        // A capped guest is not a stalled one: it keeps beating, about once a millisecond, while it waits.
        Assert.True(beats > 100 * seconds, $"{beats} heartbeats in {seconds:0.00} s");
    }
}
