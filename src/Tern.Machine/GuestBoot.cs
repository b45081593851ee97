using Tern.Guest;
using Tern.Kvm.Structs;
using Tern.Memory;

namespace Tern.Machine;

/// <summary>Turns a Tern guest image (KVM-neutral) into what the KVM machine boots.</summary>
public static class GuestBoot
{
    public static BootImage ToBootImage(GuestImage image)
    {
        var blobs = image.Blobs.Select(b => new MemoryBlob(b.Address, b.Bytes.ToArray())).ToList();
        var vcpus = image.Vcpus.Select(v => new VcpuEntry(Registers(v.Registers), SpecialRegisters(v))).ToList();
        var layout = image.Layout;
        return new BootImage(blobs, vcpus)
        {
            DescribePanic = layout is null ? null : (vcpu, memory) => DescribePanic(layout, vcpu, memory),
        };
    }

    /// <summary>Reads the guest's own account of an exception from the vCPU's control page.</summary>
    public static string DescribePanic(GuestLayout layout, int vcpu, IGuestMemory memory)
    {
        var page = memory.GetSpan(layout.Vcpus[vcpu].ControlPage, PageSize.Bytes);
        var snapshot = ControlPage.Read(page);
        return snapshot.Panic?.ToString() ?? $"guest vCPU {vcpu} signalled a panic but its control page holds no exception record";
    }

    private static KvmRegs Registers(GeneralRegisters r) => new()
    {
        Rax = r.Rax, Rbx = r.Rbx, Rcx = r.Rcx, Rdx = r.Rdx, Rsi = r.Rsi, Rdi = r.Rdi, Rsp = r.Rsp, Rbp = r.Rbp,
        R8 = r.R8, R9 = r.R9, R10 = r.R10, R11 = r.R11, R12 = r.R12, R13 = r.R13, R14 = r.R14, R15 = r.R15,
        Rip = r.Rip, Rflags = r.Rflags,
    };

    private static KvmSregs SpecialRegisters(CpuEntryState v) => new()
    {
        Cs = Segment(v.Cs), Ds = Segment(v.Ds), Es = Segment(v.Es), Fs = Segment(v.Fs), Gs = Segment(v.Gs), Ss = Segment(v.Ss),
        Tr = Segment(v.Tr), Ldt = Segment(v.Ldt),
        Gdt = new KvmDtable { Base = v.Gdt.Base, Limit = v.Gdt.Limit },
        Idt = new KvmDtable { Base = v.Idt.Base, Limit = v.Idt.Limit },
        Cr0 = v.Cr0, Cr3 = v.Cr3, Cr4 = v.Cr4, Efer = v.Efer,
    };

    private static KvmSegment Segment(SegmentRecord s) => new()
    {
        Base = s.Base, Limit = s.Limit, Selector = s.Selector, Type = s.Type,
        Present = s.Present ? (byte)1 : (byte)0, Dpl = s.Dpl, Db = s.Db ? (byte)1 : (byte)0, S = s.S ? (byte)1 : (byte)0,
        L = s.L ? (byte)1 : (byte)0, G = s.G ? (byte)1 : (byte)0, Avl = s.Avl ? (byte)1 : (byte)0,
        Unusable = s.Present ? (byte)0 : (byte)1,
    };
}
