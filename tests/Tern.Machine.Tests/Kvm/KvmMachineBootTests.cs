using Tern.Machine.Kvm;

namespace Tern.Machine.Tests.Kvm;

[Collection(KvmCollection.Name)]
public sealed class KvmMachineBootTests
{
    [Fact]
    public void A_booted_guest_runs_at_cpl3_heartbeats_and_writes_exactly_what_its_counter_says()
    {
        RequireKvm.Present();
        var guest = new CounterGuest(vcpus: 2, regionBytesPerVcpu: 16 << 20, memoryBytes: 64 << 20);
        using var machine = KvmMachine.Create(new KvmMachineOptions(64 << 20, 2));
        machine.Load(guest.Build());
        machine.Resume();
        MachineWait.Until(() => machine.Heartbeats.Count(0) > 20 && machine.Heartbeats.Count(1) > 20, TimeSpan.FromSeconds(10), "heartbeats from both vCPUs");
        machine.Pause();

        Assert.Equal(MachineRunState.Paused, machine.State);
        Assert.Null(machine.Fault);
        Assert.True(guest.ReadCounter(machine.Memory, 0) > guest.RegionPages * 20, "vCPU 0 made progress");
        Assert.True(guest.ReadCounter(machine.Memory, 1) > guest.RegionPages * 20, "vCPU 1 made progress");
        Assert.Null(guest.Verify(machine.Memory));
    }

    [Fact]
    public void A_paused_guest_makes_no_progress_and_resumes_where_it_stopped()
    {
        RequireKvm.Present();
        var guest = new CounterGuest(1, 8 << 20, 32 << 20);
        using var machine = KvmMachine.Create(new KvmMachineOptions(32 << 20, 1));
        machine.Load(guest.Build());
        machine.Resume();
        MachineWait.Until(() => machine.Heartbeats.Count(0) > 10, TimeSpan.FromSeconds(10), "heartbeats");
        machine.Pause();
        ulong frozen = guest.ReadCounter(machine.Memory, 0);
        Thread.Sleep(100);
        Assert.Equal(frozen, guest.ReadCounter(machine.Memory, 0));

        machine.Resume();
        MachineWait.Until(() => guest.ReadCounter(machine.Memory, 0) > frozen + guest.RegionPages, TimeSpan.FromSeconds(10), "progress after resume");
        machine.Pause();
        Assert.Null(guest.Verify(machine.Memory));
    }
}
