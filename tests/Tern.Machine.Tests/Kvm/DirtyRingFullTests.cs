using Tern.Machine.Kvm;
using Tern.Os;

namespace Tern.Machine.Tests.Kvm;

/// <summary>A dirty ring far smaller than what the guest dirties fills again and again, and still loses no page.</summary>
[Collection(KvmCollection.Name)]
public sealed class DirtyRingFullTests
{
    [Fact]
    public void A_smallest_ring_that_fills_many_times_a_pass_still_reports_every_page()
    {
        RequireKvm.Present();
        const ulong memory = 32 << 20;
        var guest = new CounterGuest(2, 8 << 20, memory); // 2,048 pages per vCPU a pass
        using var machine = CreateWithSmallestRing(memory, out int ringBytes);
        machine.Load(guest.Build());
        machine.Resume();
        MachineWait.Until(() => machine.Heartbeats.TotalCount > 4, TimeSpan.FromSeconds(10), "heartbeats");
        machine.DirtyTracker.Start();

        var result = DirtyPassCheck.AssertWholePassesReported(machine, guest);
        for (int v = 0; v < 2; v++)
            Assert.True(result.PerVcpuPages![v] >= (long)guest.RegionPages,
                $"vCPU {v} dirtied {result.PerVcpuPages[v]} pages through a {ringBytes}-byte ring, expected at least {guest.RegionPages}");
        machine.DirtyTracker.Stop();
    }

    /// <summary>
    /// KVM's smallest ring is a page (256 entries) where the CPU logs nothing itself; where it does (Intel PML) the
    /// reserved entries make the minimum larger and smaller rings are refused with EINVAL.
    /// </summary>
    private static KvmMachine CreateWithSmallestRing(ulong memory, out int ringBytes)
    {
        for (ringBytes = 4096; ; ringBytes *= 2)
        {
            try
            {
                return KvmMachine.Create(new KvmMachineOptions(memory, 2) { DirtyTracking = DirtyTrackingKind.Ring, DirtyRingBytes = ringBytes });
            }
            catch (OsException e) when (e.ErrorNumber == Errno.EINVAL && ringBytes < 64 << 10) { }
        }
    }
}
