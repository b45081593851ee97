using Tern.Guest.Codegen;

namespace Tern.Guest;

/// <summary>The entry states Tern's images use.</summary>
internal static class EntryStates
{
    /// <summary>
    /// A direct 64-bit entry into the vCPU's workload: CPL3 (IOPL 0; ports through the TSS I/O bitmap) for all but idle, CPL0 for idle.
    /// rdi = vCPU index, rsi = control page, rdx = parameter block, rsp = top of the vCPU's stack.
    /// </summary>
    public static CpuEntryState LongMode(GuestLayout layout, VcpuLayout vcpu, GuestCode code)
    {
        bool idle = vcpu.Workload.Kind == WorkloadKind.Idle;
        byte dpl = idle ? (byte)0 : (byte)3;
        var data = SegmentRecord.Data(idle ? CpuConstants.KernelData : CpuConstants.UserData, dpl);
        return new CpuEntryState
        {
            VcpuIndex = vcpu.Index,
            Mode = idle ? EntryMode.LongModeKernel : EntryMode.LongModeUser,
            Registers = new GeneralRegisters
            {
                Rip = code.EntryOf(vcpu.Workload).Value,
                Rsp = vcpu.StackTop.Value,
                Rflags = idle ? CpuConstants.KernelRflags : CpuConstants.UserRflags,
                Rdi = (ulong)vcpu.Index,
                Rsi = vcpu.ControlPage.Value,
                Rdx = layout.ParameterBlock.Value,
            },
            Cr0 = CpuConstants.Cr0,
            Cr3 = layout.Pml4.Value,
            Cr4 = CpuConstants.Cr4,
            Efer = CpuConstants.Efer,
            Cs = SegmentRecord.Code64(idle ? CpuConstants.KernelCode : CpuConstants.UserCode, dpl),
            Ds = data,
            Es = data,
            Fs = data,
            Gs = data,
            Ss = data,
            Tr = SegmentRecord.BusyTss(vcpu.TssSelector, vcpu.Tss.Value, vcpu.TssLimit),
            Ldt = SegmentRecord.NoLdt,
            Gdt = new DescriptorTableRecord(layout.Gdt.Value, SystemTables.GdtLimit(layout)),
            Idt = new DescriptorTableRecord(layout.Idt.Value, SystemTables.IdtLimit),
            NeedsLapicTimer = idle || vcpu.Workload.Kind == WorkloadKind.Fill, // fill rests on the timer after its pass
        };
    }

    /// <summary>
    /// The state a multiboot loader hands over: 32-bit protected mode, flat 4 GiB code and data segments, paging off,
    /// interrupts off, EAX = 0x2BADB002, EBX = the multiboot info. GDTR and IDTR are left empty (the kernel loads its own).
    /// </summary>
    public static CpuEntryState Multiboot(uint entry, uint multibootInfo, bool needsLapicTimer)
    {
        var data = SegmentRecord.Data(0x10, 0);
        return new CpuEntryState
        {
            VcpuIndex = 0,
            Mode = EntryMode.ProtectedMode32,
            Registers = new GeneralRegisters
            {
                Rip = entry,
                Rflags = CpuConstants.KernelRflags,
                Rax = CpuConstants.MultibootBootloaderMagic,
                Rbx = multibootInfo,
            },
            Cr0 = 0x11, // PE | ET
            Cr3 = 0,
            Cr4 = 0,
            Efer = 0,
            Cs = SegmentRecord.Code32(0x08),
            Ds = data,
            Es = data,
            Fs = data,
            Gs = data,
            Ss = data,
            // VMX insists on a usable busy TSS in TR even when nothing uses it; this is what a reset CPU holds.
            Tr = SegmentRecord.BusyTss(0, 0, 0xFFFF),
            Ldt = SegmentRecord.NoLdt,
            Gdt = new DescriptorTableRecord(0, 0),
            Idt = new DescriptorTableRecord(0, 0),
            NeedsLapicTimer = needsLapicTimer,
        };
    }
}
