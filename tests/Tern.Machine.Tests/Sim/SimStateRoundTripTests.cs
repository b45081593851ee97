using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Machine.State;
using Tern.Machine.Tests.Kvm;
using Tern.Memory;

namespace Tern.Machine.Tests.Sim;

/// <summary>A simulated machine's state is a fixed point of save -> restore -> save when its RAM moves with it.</summary>
public sealed class SimStateRoundTripTests
{
    private const ulong Memory = 32 << 20;

    [Fact]
    public void Save_restore_save_gives_the_same_bytes_and_the_guest_continues()
    {
        var spec = WorkloadSpec.Parse("random:ws=8M,rate=20");
        using var source = SimMachine.Create(new SimMachineOptions(Memory, 2, spec));
        source.Resume();
        MachineWait.Until(() => source.ReadCounters().All(c => c > 1000), TimeSpan.FromSeconds(10), "both vCPUs writing");
        source.Pause();
        byte[] saved = source.SaveState();
        ulong[] counters = source.ReadCounters();

        using var destination = SimMachine.CreateIncoming(new SimMachineOptions(Memory, 2, spec));
        CopyRam(source, destination);
        destination.RestoreState(saved);
        Assert.Equal(saved, destination.SaveState());
        Assert.Equal(["sim-vcpu0", "sim-vcpu1"], StateSnapshot.Decode(saved).Sections.Select(s => s.Id));

        // The state is the guest's: it carries on from its counters on the destination.
        destination.Resume();
        MachineWait.Until(() => destination.ReadCounters().Zip(counters).All(p => p.First > p.Second), TimeSpan.FromSeconds(10), "the guest continuing");
        destination.Pause();
    }

    [Fact]
    public void State_without_its_ram_is_refused_with_the_reason()
    {
        var spec = WorkloadSpec.Parse("seq:ws=4M");
        using var source = SimMachine.Create(new SimMachineOptions(Memory, 1, spec));
        source.Resume();
        MachineWait.Until(() => source.ReadCounters()[0] > 0, TimeSpan.FromSeconds(10), "the first writes");
        source.Pause();
        byte[] saved = source.SaveState();

        using var destination = SimMachine.CreateIncoming(new SimMachineOptions(Memory, 1, spec));
        var e = Assert.Throws<StateFormatException>(() => destination.RestoreState(saved));
        Assert.Contains("sim-vcpu0", e.Message);
        Assert.Contains("do not belong together", e.Message);
    }

    private static void CopyRam(SimMachine from, SimMachine to)
    {
        var page = new byte[PageSize.Bytes];
        for (ulong p = 0; p < from.Memory.PageCount; p++)
        {
            from.Memory.ReadPage(new PageIndex(p), page);
            to.Memory.WritePage(new PageIndex(p), page);
        }
    }
}
