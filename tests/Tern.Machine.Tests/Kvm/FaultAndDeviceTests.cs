using Iced.Intel;
using Tern.Guest;
using Tern.Machine.Kvm;
using static Iced.Intel.AssemblerRegisters;

namespace Tern.Machine.Tests.Kvm;

[Collection(KvmCollection.Name)]
public sealed class FaultAndDeviceTests
{
    [Fact]
    public void A_guest_that_triple_faults_stops_with_an_error_saying_what_it_did()
    {
        RequireKvm.Present();
        var guest = new CounterGuest(1, 2 << 20, 16 << 20);
        using var machine = KvmMachine.Create(new KvmMachineOptions(16 << 20, 1));
        MachineFault? raised = null;
        machine.Faulted += f => raised = f;
        machine.Load(guest.Build(CounterGuest.Assemble(a => { a.nop(); a.ud2(); })));
        machine.Resume();
        MachineWait.Until(() => machine.State == MachineRunState.Faulted, TimeSpan.FromSeconds(10), "the fault");
        // The event is raised on the vCPU thread just after the state changes: wait for it too.
        MachineWait.Until(() => Volatile.Read(ref raised) is not null, TimeSpan.FromSeconds(10), "the Faulted event");

        var fault = machine.Fault!;
        Assert.Same(fault, raised);
        Assert.Equal(MachineFaultKind.Shutdown, fault.Kind);
        Assert.Contains("triple fault", fault.Description);
        // Where the guest was (the ud2 after the nop), or, on AMD hosts, where KVM reset the registers, a clear
        // statement that it cannot be known rather than the reset vector.
        Assert.True(fault.Description.Contains($"rip 0x{CounterGuest.Code + 1:x}", StringComparison.Ordinal)
                    || fault.Description.Contains("KVM reset the vCPU's registers on the shutdown", StringComparison.Ordinal),
            fault.Description);
        Assert.DoesNotContain("rip 0xfff0", fault.Description);
        var error = Assert.Throws<InvalidOperationException>(() => machine.Resume());
        Assert.Contains("faulted", error.Message);
        machine.Pause(); // still possible: the operator can save what is left
    }

    [Fact]
    public void Bytes_the_guest_writes_to_the_serial_port_reach_the_host_stream()
    {
        RequireKvm.Present();
        var guest = new CounterGuest(1, 2 << 20, 16 << 20);
        var output = new MemoryStream();
        using var machine = KvmMachine.Create(new KvmMachineOptions(16 << 20, 1) { SerialOutput = Stream.Synchronized(output) });
        machine.Load(guest.Build(CounterGuest.Assemble(a =>
        {
            var wait = a.CreateLabel();
            var spin = a.CreateLabel();
            foreach (var ch in "tern\n")
            {
                a.Label(ref wait);
                wait = a.CreateLabel();
                a.mov(dx, (ushort)0x3FD);
                var poll = a.CreateLabel();
                a.Label(ref poll);
                a.@in(al, dx);
                a.test(al, 0x20);
                a.jz(poll);
                a.mov(dx, (ushort)0x3F8);
                a.mov(al, (byte)ch);
                a.@out(dx, al);
            }
            a.Label(ref spin);
            a.mov(dx, Tern.Guest.GuestPorts.Heartbeat);
            a.@out(dx, al);
            a.jmp(spin);
        })));
        machine.Resume();
        MachineWait.Until(() => machine.Heartbeats.TotalCount > 0, TimeSpan.FromSeconds(10), "the guest to finish writing");
        machine.Pause();
        Assert.Equal("tern\n", System.Text.Encoding.ASCII.GetString(output.ToArray()));
        Assert.Equal(5, machine.Serial.TransmittedBytes);
    }
}
