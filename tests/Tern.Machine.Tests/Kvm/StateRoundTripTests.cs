using Tern.Machine.Kvm;
using Tern.Memory;

namespace Tern.Machine.Tests.Kvm;

[Collection(KvmCollection.Name)]
public sealed class StateRoundTripTests
{
    [Fact]
    public void A_paused_guest_captured_with_its_ram_continues_in_a_second_vm_from_its_counter()
    {
        RequireKvm.Present();
        const ulong memory = 64 << 20;
        var guest = new CounterGuest(vcpus: 2, regionBytesPerVcpu: 8 << 20, memoryBytes: memory);
        using var source = KvmMachine.Create(new KvmMachineOptions(memory, 2));
        source.Load(guest.Build());
        source.Resume();
        MachineWait.Until(() => source.Heartbeats.Count(0) > 50 && source.Heartbeats.Count(1) > 50, TimeSpan.FromSeconds(10), "source heartbeats");
        source.Pause();
        var state = source.SaveState();
        ulong[] counters = [guest.ReadCounter(source.Memory, 0), guest.ReadCounter(source.Memory, 1)];

        using var destination = KvmMachine.Create(new KvmMachineOptions(memory, 2));
        var page = new byte[PageSize.Bytes];
        for (ulong p = 0; p < source.Memory.PageCount; p++)
        {
            source.Memory.ReadPage(new PageIndex(p), page);
            destination.Memory.WritePage(new PageIndex(p), page);
        }
        destination.RestoreState(state);
        destination.Resume();
        MachineWait.Until(() => destination.Heartbeats.Count(0) > 20 && destination.Heartbeats.Count(1) > 20, TimeSpan.FromSeconds(10), "destination heartbeats");
        destination.Pause();

        Assert.Null(destination.Fault);
        for (int v = 0; v < 2; v++)
        {
            ulong after = guest.ReadCounter(destination.Memory, v);
            Assert.True(after > counters[v] + guest.RegionPages * 10, $"vCPU {v} continued from {counters[v]} (now {after})");
            Assert.Equal(counters[v], guest.ReadCounter(source.Memory, v)); // the source stayed paused
        }
        Assert.Null(guest.Verify(destination.Memory));
    }

    [Fact]
    public void State_saved_from_a_machine_with_other_vcpus_is_refused_with_a_clear_error()
    {
        RequireKvm.Present();
        var guest = new CounterGuest(1, 2 << 20, 16 << 20);
        using var one = KvmMachine.Create(new KvmMachineOptions(16 << 20, 1));
        one.Load(guest.Build());
        var state = one.SaveState();
        using var two = KvmMachine.Create(new KvmMachineOptions(16 << 20, 2));
        var error = Assert.Throws<Tern.Machine.State.StateFormatException>(() => two.RestoreState(state));
        Assert.Contains("vcpu1", error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public void Saving_a_running_machine_is_refused()
    {
        RequireKvm.Present();
        var guest = new CounterGuest(1, 2 << 20, 16 << 20);
        using var machine = KvmMachine.Create(new KvmMachineOptions(16 << 20, 1));
        machine.Load(guest.Build());
        machine.Resume();
        var error = Assert.Throws<InvalidOperationException>(() => machine.SaveState());
        Assert.Contains("pause", error.Message);
        machine.Pause();
    }
}
