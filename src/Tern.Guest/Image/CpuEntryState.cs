namespace Tern.Guest;

/// <summary>The privilege and mode a vCPU starts in.</summary>
public enum EntryMode
{
    /// <summary>64-bit mode at CPL3 (the memory workloads).</summary>
    LongModeUser,

    /// <summary>64-bit mode at CPL0 (idle).</summary>
    LongModeKernel,

    /// <summary>32-bit protected mode, paging off, CPL0 (a multiboot entry).</summary>
    ProtectedMode32,
}

/// <summary>
/// The state one vCPU must have when the VMM first runs it, independent of KVM. To apply it with KVM:
/// KVM_GET_SREGS, overwrite cr0/cr3/cr4/efer, the eight segments, gdt and idt from this record (keep apic_base and
/// the interrupt bitmap KVM returned), KVM_SET_SREGS; KVM_SET_REGS from <see cref="Registers"/>. With an in-kernel
/// irqchip, also KVM_SET_MP_STATE(KVM_MP_STATE_RUNNABLE) on every vCPU: KVM otherwise parks the APs (vCPU 1 and up)
/// in UNINITIALIZED, waiting for an INIT/SIPI that never comes.
/// </summary>
public sealed record CpuEntryState
{
    public required int VcpuIndex { get; init; }
    public required EntryMode Mode { get; init; }
    public required GeneralRegisters Registers { get; init; }

    public required ulong Cr0 { get; init; }
    public required ulong Cr3 { get; init; }
    public required ulong Cr4 { get; init; }
    public required ulong Efer { get; init; }

    public required SegmentRecord Cs { get; init; }
    public required SegmentRecord Ds { get; init; }
    public required SegmentRecord Es { get; init; }
    public required SegmentRecord Fs { get; init; }
    public required SegmentRecord Gs { get; init; }
    public required SegmentRecord Ss { get; init; }
    public required SegmentRecord Tr { get; init; }
    public required SegmentRecord Ldt { get; init; }

    public required DescriptorTableRecord Gdt { get; init; }
    public required DescriptorTableRecord Idt { get; init; }

    /// <summary>
    /// The vCPU programs its LAPIC timer in x2APIC mode (idle): the VMM must create the in-kernel irqchip
    /// (KVM_CREATE_IRQCHIP) and expose x2APIC in CPUID (KVM_GET_SUPPORTED_CPUID does).
    /// </summary>
    public required bool NeedsLapicTimer { get; init; }
}
