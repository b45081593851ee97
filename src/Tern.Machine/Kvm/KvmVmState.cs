using Tern.Kvm;
using Tern.Kvm.Structs;
using Tern.Machine.State;

namespace Tern.Machine.Kvm;

/// <summary>
/// VM-wide KVM state: the kvmclock, and the in-kernel interrupt controllers (two PICs and the IOAPIC) and PIT when
/// the machine has them.
/// </summary>
internal sealed class KvmVmState(KvmVm vm, bool hasIrqchip, bool hasPit) : IStateComponent
{
    public string StateId => "kvm-vm";
    public ushort StateVersion => 1;

    public void SaveState(StateWriter writer)
    {
        writer.WriteStruct(vm.GetClock());
        writer.WriteByte(hasIrqchip ? (byte)1 : (byte)0);
        if (hasIrqchip)
        {
            writer.WriteStruct(vm.GetIrqchip(KvmIrqchip.PicMaster));
            writer.WriteStruct(vm.GetIrqchip(KvmIrqchip.PicSlave));
            writer.WriteStruct(vm.GetIrqchip(KvmIrqchip.IoApic));
        }
        writer.WriteByte(hasPit ? (byte)1 : (byte)0);
        if (hasPit) writer.WriteStruct(vm.GetPit2());
    }

    public void RestoreState(StateReader reader, ushort version)
    {
        if (version != 1) throw new StateFormatException(StateId, $"VM state version {version} is not supported (this Tern reads 1)");
        var clock = reader.ReadStruct<KvmClockData>();
        bool savedIrqchip = reader.ReadByte() != 0;
        if (savedIrqchip != hasIrqchip)
            throw new StateFormatException(StateId, savedIrqchip ? "the saved machine had an in-kernel irqchip and this one has none" : "the saved machine had no in-kernel irqchip");
        KvmIrqchip[] chips = savedIrqchip ? [reader.ReadStruct<KvmIrqchip>(), reader.ReadStruct<KvmIrqchip>(), reader.ReadStruct<KvmIrqchip>()] : [];
        bool savedPit = reader.ReadByte() != 0;
        if (savedPit != hasPit)
            throw new StateFormatException(StateId, savedPit ? "the saved machine had a PIT and this one has none" : "the saved machine had no PIT and this one has one");
        KvmPitState2? pit = savedPit ? reader.ReadStruct<KvmPitState2>() : null;

        vm.SetClock(clock);
        foreach (var chip in chips) vm.SetIrqchip(chip);
        if (pit is { } p) vm.SetPit2(p);
    }
}
