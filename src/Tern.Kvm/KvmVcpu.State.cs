using System.Runtime.InteropServices;
using Tern.Kvm.Structs;
using Tern.Os;

namespace Tern.Kvm;

/// <summary>Register and device state ioctls of a vCPU. Call them on the vCPU's own thread, outside <c>KVM_RUN</c>.</summary>
public sealed unsafe partial class KvmVcpu
{
    public KvmRegs GetRegs() { KvmRegs r; Ioctl.Call(fd, KvmIoctls.GetRegs, &r, "KVM_GET_REGS"); return r; }
    public void SetRegs(in KvmRegs regs) { fixed (KvmRegs* p = &regs) Ioctl.Call(fd, KvmIoctls.SetRegs, p, "KVM_SET_REGS"); }

    public KvmSregs GetSregs() { KvmSregs s; Ioctl.Call(fd, KvmIoctls.GetSregs, &s, "KVM_GET_SREGS"); return s; }
    public void SetSregs(in KvmSregs sregs) { fixed (KvmSregs* p = &sregs) Ioctl.Call(fd, KvmIoctls.SetSregs, p, "KVM_SET_SREGS"); }

    public KvmFpu GetFpu() { KvmFpu f; Ioctl.Call(fd, KvmIoctls.GetFpu, &f, "KVM_GET_FPU"); return f; }
    public void SetFpu(in KvmFpu fpu) { fixed (KvmFpu* p = &fpu) Ioctl.Call(fd, KvmIoctls.SetFpu, p, "KVM_SET_FPU"); }

    public KvmLapicState GetLapic() { KvmLapicState l; Ioctl.Call(fd, KvmIoctls.GetLapic, &l, "KVM_GET_LAPIC"); return l; }
    public void SetLapic(in KvmLapicState lapic) { fixed (KvmLapicState* p = &lapic) Ioctl.Call(fd, KvmIoctls.SetLapic, p, "KVM_SET_LAPIC"); }

    public KvmVcpuEvents GetVcpuEvents() { KvmVcpuEvents e; Ioctl.Call(fd, KvmIoctls.GetVcpuEvents, &e, "KVM_GET_VCPU_EVENTS"); return e; }
    public void SetVcpuEvents(in KvmVcpuEvents events) { fixed (KvmVcpuEvents* p = &events) Ioctl.Call(fd, KvmIoctls.SetVcpuEvents, p, "KVM_SET_VCPU_EVENTS"); }

    public KvmMpState GetMpState() { KvmMpState m; Ioctl.Call(fd, KvmIoctls.GetMpState, &m, "KVM_GET_MP_STATE"); return m; }
    public void SetMpState(KvmMpState state) => Ioctl.Call(fd, KvmIoctls.SetMpState, &state, "KVM_SET_MP_STATE");

    public KvmDebugRegs GetDebugRegs() { KvmDebugRegs d; Ioctl.Call(fd, KvmIoctls.GetDebugRegs, &d, "KVM_GET_DEBUGREGS"); return d; }
    public void SetDebugRegs(in KvmDebugRegs regs) { fixed (KvmDebugRegs* p = &regs) Ioctl.Call(fd, KvmIoctls.SetDebugRegs, p, "KVM_SET_DEBUGREGS"); }

    public KvmXcrs GetXcrs() { KvmXcrs x; Ioctl.Call(fd, KvmIoctls.GetXcrs, &x, "KVM_GET_XCRS"); return x; }
    public void SetXcrs(in KvmXcrs xcrs) { fixed (KvmXcrs* p = &xcrs) Ioctl.Call(fd, KvmIoctls.SetXcrs, p, "KVM_SET_XCRS"); }

    /// <summary>The guest TSC frequency in kHz (<c>KVM_GET_TSC_KHZ</c>).</summary>
    public int GetTscKhz() => Ioctl.Call(fd, KvmIoctls.GetTscKhz, 0, "KVM_GET_TSC_KHZ");

    /// <summary>
    /// The XSAVE area. <paramref name="size"/> is <c>KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2)</c> when that is at least 4096
    /// (then <c>KVM_GET_XSAVE2</c> is used), else 4096.
    /// </summary>
    public byte[] GetXsave(int size)
    {
        var buffer = new byte[Math.Max(size, 4096)];
        fixed (byte* p = buffer)
        {
            if (size > 4096) Ioctl.Call(fd, KvmIoctls.GetXsave2, p, "KVM_GET_XSAVE2");
            else Ioctl.Call(fd, KvmIoctls.GetXsave, p, "KVM_GET_XSAVE");
        }
        return buffer;
    }

    public void SetXsave(ReadOnlySpan<byte> area)
    {
        if (area.Length < 4096) throw new ArgumentException($"an XSAVE area is at least 4096 bytes, got {area.Length}", nameof(area));
        fixed (byte* p = area) Ioctl.Call(fd, KvmIoctls.SetXsave, p, "KVM_SET_XSAVE");
    }

    public void SetCpuid(ReadOnlySpan<KvmCpuidEntry2> entries)
    {
        int bytes = sizeof(KvmCpuid2Header) + entries.Length * sizeof(KvmCpuidEntry2);
        byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)bytes);
        try
        {
            ((KvmCpuid2Header*)buffer)->Nent = (uint)entries.Length;
            entries.CopyTo(new Span<KvmCpuidEntry2>(buffer + sizeof(KvmCpuid2Header), entries.Length));
            Ioctl.Call(fd, KvmIoctls.SetCpuid2, buffer, "KVM_SET_CPUID2");
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>
    /// Reads the given MSRs. KVM stops at the first MSR it cannot read, so the result may be shorter than
    /// <paramref name="indices"/>; the caller filters the list once and reuses it.
    /// </summary>
    public KvmMsrEntry[] GetMsrs(ReadOnlySpan<uint> indices)
    {
        int bytes = sizeof(KvmMsrsHeader) + indices.Length * sizeof(KvmMsrEntry);
        byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)bytes);
        try
        {
            ((KvmMsrsHeader*)buffer)->Nmsrs = (uint)indices.Length;
            var entries = new Span<KvmMsrEntry>(buffer + sizeof(KvmMsrsHeader), indices.Length);
            for (int i = 0; i < indices.Length; i++) entries[i].Index = indices[i];
            int read = Ioctl.Call(fd, KvmIoctls.GetMsrs, buffer, "KVM_GET_MSRS");
            return entries[..read].ToArray();
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>Writes MSRs; throws naming the first MSR KVM refused.</summary>
    public void SetMsrs(ReadOnlySpan<KvmMsrEntry> msrs)
    {
        int bytes = sizeof(KvmMsrsHeader) + msrs.Length * sizeof(KvmMsrEntry);
        byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)bytes);
        try
        {
            ((KvmMsrsHeader*)buffer)->Nmsrs = (uint)msrs.Length;
            msrs.CopyTo(new Span<KvmMsrEntry>(buffer + sizeof(KvmMsrsHeader), msrs.Length));
            int written = Ioctl.Call(fd, KvmIoctls.SetMsrs, buffer, "KVM_SET_MSRS");
            if (written != msrs.Length)
                throw new InvalidOperationException($"KVM_SET_MSRS accepted {written} of {msrs.Length} MSRs; it refused MSR 0x{msrs[written].Index:x} = 0x{msrs[written].Data:x}");
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }
}
