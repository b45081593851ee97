using System.Buffers.Binary;
using Tern.Machine.Kvm;
using Tern.Machine.State;
using Tern.Memory;

namespace Tern.Machine.Tests.Kvm;

/// <summary>
/// save -> restore -> save on real KVM gives back what was saved, field by field, except what runs on while paused:
/// the LAPIC timer's current count, MSR values (the TSC), and the kvmclock (which must not go back).
/// </summary>
[Collection(KvmCollection.Name)]
public sealed class KvmStateFixedPointTests
{
    [Fact]
    public void Vcpu_vm_and_serial_state_restored_into_a_second_vm_saves_back_the_same()
    {
        RequireKvm.Present();
        const ulong memory = 16 << 20;
        var guest = new CounterGuest(2, 2 << 20, memory);
        using var source = KvmMachine.Create(new KvmMachineOptions(memory, 2));
        source.Load(guest.Build());
        source.Resume();
        MachineWait.Until(() => source.Heartbeats.Count(0) > 5 && source.Heartbeats.Count(1) > 5, TimeSpan.FromSeconds(10), "heartbeats");
        source.Pause();
        var first = StateSnapshot.Decode(source.SaveState());

        using var destination = KvmMachine.Create(new KvmMachineOptions(memory, 2));
        var page = new byte[PageSize.Bytes];
        for (ulong p = 0; p < source.Memory.PageCount; p++)
        {
            source.Memory.ReadPage(new PageIndex(p), page);
            destination.Memory.WritePage(new PageIndex(p), page);
        }
        destination.RestoreState(source.SaveState());
        var second = StateSnapshot.Decode(destination.SaveState());

        Assert.Equal(first.Sections.Select(s => (s.Id, s.Version)), second.Sections.Select(s => (s.Id, s.Version)));
        foreach (var (a, b) in first.Sections.Zip(second.Sections))
        {
            if (a.Id.StartsWith("vcpu", StringComparison.Ordinal)) AssertSameVcpu(a, b);
            else if (a.Id == "kvm-vm") AssertSameVm(a, b);
            else Assert.Equal(a.Payload, b.Payload);
        }
    }

    private static void AssertSameVcpu(StateSnapshot.Section a, StateSnapshot.Section b)
    {
        var ra = new StateReader(a.Id, a.Payload);
        var rb = new StateReader(b.Id, b.Payload);
        foreach (var field in new[] { "mp state", "sregs", "regs", "xsave", "xcrs" })
            Assert.True(ra.ReadBytes(1 << 16).AsSpan().SequenceEqual(rb.ReadBytes(1 << 16)), $"{a.Id} {field} differs after a round trip");
        ra.ReadBytes(); rb.ReadBytes(); // LAPIC: its timer counts down while paused
        uint count = ra.ReadUInt32();
        Assert.Equal(count, rb.ReadUInt32());
        for (uint i = 0; i < count; i++)
        {
            Assert.Equal(ra.ReadUInt32(), rb.ReadUInt32()); // the same MSRs, in order
            ra.ReadUInt64(); rb.ReadUInt64(); // values such as the TSC run on
        }
        foreach (var field in new[] { "debug registers", "vcpu events" })
            Assert.True(ra.ReadBytes().AsSpan().SequenceEqual(rb.ReadBytes()), $"{a.Id} {field} differs after a round trip");
        ra.EnsureConsumed();
        rb.EnsureConsumed();
    }

    private static void AssertSameVm(StateSnapshot.Section a, StateSnapshot.Section b)
    {
        var ra = new StateReader(a.Id, a.Payload);
        var rb = new StateReader(b.Id, b.Payload);
        ulong clockA = BinaryPrimitives.ReadUInt64LittleEndian(ra.ReadBytes());
        ulong clockB = BinaryPrimitives.ReadUInt64LittleEndian(rb.ReadBytes());
        // Restored, the clock continues from the saved value: never back, and not jumped to the host's clock.
        Assert.InRange(clockB, clockA, clockA + 60_000_000_000UL);
        // The rest (the irqchip flag and chips, the PIT flag and PIT) comes back unchanged.
        Assert.True(a.Payload.AsSpan(a.Payload.Length - ra.Remaining).SequenceEqual(b.Payload.AsSpan(b.Payload.Length - rb.Remaining)),
            "the irqchip or PIT state differs after a round trip");
    }
}
