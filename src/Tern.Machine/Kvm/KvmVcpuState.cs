using Tern.Kvm;
using Tern.Kvm.Structs;
using Tern.Machine.State;

namespace Tern.Machine.Kvm;

/// <summary>
/// Everything KVM holds for one vCPU: general and special registers, XSAVE, XCRs, the MSRs KVM lists (those it can
/// read), the local APIC, pending events, MP state and debug registers. Saved and restored on the vCPU's own thread.
/// Restore order follows what KVM needs: mode first (sregs), then registers, extended state, APIC, MSRs, events.
/// </summary>
internal sealed class KvmVcpuState(VcpuThread thread, uint[] msrIndices, int xsaveSize) : IStateComponent
{
    public string StateId => $"vcpu{thread.Id}";
    public ushort StateVersion => 1;

    public void SaveState(StateWriter writer)
    {
        var bytes = thread.Execute(() =>
        {
            var v = thread.Vcpu;
            var w = new StateWriter();
            w.WriteStruct(v.GetMpState());
            w.WriteStruct(v.GetSregs());
            w.WriteStruct(v.GetRegs());
            w.WriteBytes(v.GetXsave(xsaveSize));
            w.WriteStruct(v.GetXcrs());
            w.WriteStruct(v.GetLapic());
            var msrs = v.GetMsrs(msrIndices);
            w.WriteUInt32((uint)msrs.Length);
            foreach (var m in msrs) { w.WriteUInt32(m.Index); w.WriteUInt64(m.Data); }
            w.WriteStruct(v.GetDebugRegs());
            w.WriteStruct(v.GetVcpuEvents());
            return w.ToArray();
        });
        foreach (var b in bytes) writer.WriteByte(b);
    }

    public void RestoreState(StateReader reader, ushort version)
    {
        if (version != 1) throw new StateFormatException(StateId, $"vCPU state version {version} is not supported (this Tern reads 1)");
        var mp = reader.ReadStruct<KvmMpState>();
        var sregs = reader.ReadStruct<KvmSregs>();
        var regs = reader.ReadStruct<KvmRegs>();
        var xsave = reader.ReadBytes(1 << 16);
        var xcrs = reader.ReadStruct<KvmXcrs>();
        var lapic = reader.ReadStruct<KvmLapicState>();
        uint msrCount = reader.ReadUInt32();
        if (msrCount > 4096) throw new StateFormatException(StateId, $"{msrCount} MSRs is more than any vCPU has");
        var msrs = new KvmMsrEntry[msrCount];
        for (int i = 0; i < msrs.Length; i++) msrs[i] = new KvmMsrEntry { Index = reader.ReadUInt32(), Data = reader.ReadUInt64() };
        var debug = reader.ReadStruct<KvmDebugRegs>();
        var events = reader.ReadStruct<KvmVcpuEvents>();

        thread.Execute<object?>(() =>
        {
            var v = thread.Vcpu;
            v.SetMpState(mp);
            v.SetSregs(sregs);
            v.SetRegs(regs);
            v.SetXsave(xsave);
            v.SetXcrs(xcrs);
            v.SetLapic(lapic);
            v.SetMsrs(msrs);
            v.SetDebugRegs(debug);
            v.SetVcpuEvents(events);
            return null;
        });
    }

    /// <summary>
    /// The MSRs of KVM's index list that this vCPU can actually read (KVM lists some that depend on features the
    /// guest CPUID does not have). Runs on the vCPU thread.
    /// </summary>
    public static uint[] ReadableMsrs(VcpuThread thread, uint[] candidates) => thread.Execute(() =>
    {
        var readable = new List<uint>(candidates.Length);
        foreach (var index in candidates)
        {
            if (thread.Vcpu.GetMsrs([index]).Length == 1) readable.Add(index);
        }
        return readable.ToArray();
    });
}
