using System.Runtime.InteropServices;
using Tern.Kvm.Structs;

namespace Tern.Kvm.Tests.Layout;

/// <summary>Every struct Tern shares with KVM has the size and field offsets of <c>linux/kvm.h</c>.</summary>
public sealed class KvmStructLayoutTests
{
    public static TheoryData<string, Type> Structs => new()
    {
        { "kvm_regs", typeof(KvmRegs) },
        { "kvm_sregs", typeof(KvmSregs) },
        { "kvm_segment", typeof(KvmSegment) },
        { "kvm_dtable", typeof(KvmDtable) },
        { "kvm_fpu", typeof(KvmFpu) },
        { "kvm_userspace_memory_region", typeof(KvmUserspaceMemoryRegion) },
        { "kvm_dirty_log", typeof(KvmDirtyLog) },
        { "kvm_clear_dirty_log", typeof(KvmClearDirtyLog) },
        { "kvm_dirty_gfn", typeof(KvmDirtyGfn) },
        { "kvm_enable_cap", typeof(KvmEnableCap) },
        { "kvm_msr_entry", typeof(KvmMsrEntry) },
        { "kvm_msrs", typeof(KvmMsrsHeader) },
        { "kvm_lapic_state", typeof(KvmLapicState) },
        { "kvm_vcpu_events", typeof(KvmVcpuEvents) },
        { "kvm_mp_state", typeof(KvmMpState) },
        { "kvm_debugregs", typeof(KvmDebugRegs) },
        { "kvm_xcr", typeof(KvmXcr) },
        { "kvm_xcrs", typeof(KvmXcrs) },
        { "kvm_cpuid_entry2", typeof(KvmCpuidEntry2) },
        { "kvm_cpuid2", typeof(KvmCpuid2Header) },
        { "kvm_clock_data", typeof(KvmClockData) },
        { "kvm_irqchip", typeof(KvmIrqchip) },
        { "kvm_pit_config", typeof(KvmPitConfig) },
        { "kvm_pit_state2", typeof(KvmPitState2) },
    };

    [Theory]
    [MemberData(nameof(Structs))]
    public void Size_matches_the_kernel_header(string cName, Type type)
    {
        Assert.Equal(CHeaderProbe.Get($"sizeof_{cName}"), (ulong)Marshal.SizeOf(type));
    }

    [Theory]
    [InlineData("kvm_regs", "rip", typeof(KvmRegs), nameof(KvmRegs.Rip))]
    [InlineData("kvm_regs", "rflags", typeof(KvmRegs), nameof(KvmRegs.Rflags))]
    [InlineData("kvm_regs", "r8", typeof(KvmRegs), nameof(KvmRegs.R8))]
    [InlineData("kvm_sregs", "cs", typeof(KvmSregs), nameof(KvmSregs.Cs))]
    [InlineData("kvm_sregs", "tr", typeof(KvmSregs), nameof(KvmSregs.Tr))]
    [InlineData("kvm_sregs", "ldt", typeof(KvmSregs), nameof(KvmSregs.Ldt))]
    [InlineData("kvm_sregs", "gdt", typeof(KvmSregs), nameof(KvmSregs.Gdt))]
    [InlineData("kvm_sregs", "idt", typeof(KvmSregs), nameof(KvmSregs.Idt))]
    [InlineData("kvm_sregs", "cr0", typeof(KvmSregs), nameof(KvmSregs.Cr0))]
    [InlineData("kvm_sregs", "cr3", typeof(KvmSregs), nameof(KvmSregs.Cr3))]
    [InlineData("kvm_sregs", "efer", typeof(KvmSregs), nameof(KvmSregs.Efer))]
    [InlineData("kvm_sregs", "apic_base", typeof(KvmSregs), nameof(KvmSregs.ApicBase))]
    [InlineData("kvm_sregs", "interrupt_bitmap", typeof(KvmSregs), nameof(KvmSregs.InterruptBitmap))]
    [InlineData("kvm_segment", "limit", typeof(KvmSegment), nameof(KvmSegment.Limit))]
    [InlineData("kvm_segment", "selector", typeof(KvmSegment), nameof(KvmSegment.Selector))]
    [InlineData("kvm_segment", "type", typeof(KvmSegment), nameof(KvmSegment.Type))]
    [InlineData("kvm_segment", "l", typeof(KvmSegment), nameof(KvmSegment.L))]
    [InlineData("kvm_segment", "unusable", typeof(KvmSegment), nameof(KvmSegment.Unusable))]
    [InlineData("kvm_fpu", "fcw", typeof(KvmFpu), nameof(KvmFpu.Fcw))]
    [InlineData("kvm_fpu", "last_ip", typeof(KvmFpu), nameof(KvmFpu.LastIp))]
    [InlineData("kvm_fpu", "xmm", typeof(KvmFpu), nameof(KvmFpu.Xmm))]
    [InlineData("kvm_fpu", "mxcsr", typeof(KvmFpu), nameof(KvmFpu.Mxcsr))]
    [InlineData("kvm_userspace_memory_region", "guest_phys_addr", typeof(KvmUserspaceMemoryRegion), nameof(KvmUserspaceMemoryRegion.GuestPhysAddr))]
    [InlineData("kvm_userspace_memory_region", "userspace_addr", typeof(KvmUserspaceMemoryRegion), nameof(KvmUserspaceMemoryRegion.UserspaceAddr))]
    [InlineData("kvm_dirty_log", "dirty_bitmap", typeof(KvmDirtyLog), nameof(KvmDirtyLog.DirtyBitmap))]
    [InlineData("kvm_clear_dirty_log", "num_pages", typeof(KvmClearDirtyLog), nameof(KvmClearDirtyLog.NumPages))]
    [InlineData("kvm_clear_dirty_log", "first_page", typeof(KvmClearDirtyLog), nameof(KvmClearDirtyLog.FirstPage))]
    [InlineData("kvm_clear_dirty_log", "dirty_bitmap", typeof(KvmClearDirtyLog), nameof(KvmClearDirtyLog.DirtyBitmap))]
    [InlineData("kvm_dirty_gfn", "slot", typeof(KvmDirtyGfn), nameof(KvmDirtyGfn.Slot))]
    [InlineData("kvm_dirty_gfn", "offset", typeof(KvmDirtyGfn), nameof(KvmDirtyGfn.Offset))]
    [InlineData("kvm_enable_cap", "args", typeof(KvmEnableCap), nameof(KvmEnableCap.Args))]
    [InlineData("kvm_msr_entry", "data", typeof(KvmMsrEntry), nameof(KvmMsrEntry.Data))]
    [InlineData("kvm_vcpu_events", "interrupt", typeof(KvmVcpuEvents), nameof(KvmVcpuEvents.InterruptInjected))]
    [InlineData("kvm_vcpu_events", "nmi", typeof(KvmVcpuEvents), nameof(KvmVcpuEvents.NmiInjected))]
    [InlineData("kvm_vcpu_events", "sipi_vector", typeof(KvmVcpuEvents), nameof(KvmVcpuEvents.SipiVector))]
    [InlineData("kvm_vcpu_events", "flags", typeof(KvmVcpuEvents), nameof(KvmVcpuEvents.Flags))]
    [InlineData("kvm_vcpu_events", "triple_fault", typeof(KvmVcpuEvents), nameof(KvmVcpuEvents.TripleFaultPending))]
    [InlineData("kvm_vcpu_events", "exception_payload", typeof(KvmVcpuEvents), nameof(KvmVcpuEvents.ExceptionPayload))]
    [InlineData("kvm_debugregs", "dr6", typeof(KvmDebugRegs), nameof(KvmDebugRegs.Dr6))]
    [InlineData("kvm_debugregs", "dr7", typeof(KvmDebugRegs), nameof(KvmDebugRegs.Dr7))]
    [InlineData("kvm_debugregs", "flags", typeof(KvmDebugRegs), nameof(KvmDebugRegs.Flags))]
    [InlineData("kvm_xcrs", "xcrs", typeof(KvmXcrs), nameof(KvmXcrs.XcrsRaw))]
    [InlineData("kvm_xcrs", "padding", typeof(KvmXcrs), nameof(KvmXcrs.Padding))]
    [InlineData("kvm_cpuid_entry2", "eax", typeof(KvmCpuidEntry2), nameof(KvmCpuidEntry2.Eax))]
    [InlineData("kvm_cpuid_entry2", "edx", typeof(KvmCpuidEntry2), nameof(KvmCpuidEntry2.Edx))]
    [InlineData("kvm_clock_data", "flags", typeof(KvmClockData), nameof(KvmClockData.Flags))]
    [InlineData("kvm_clock_data", "realtime", typeof(KvmClockData), nameof(KvmClockData.Realtime))]
    [InlineData("kvm_clock_data", "host_tsc", typeof(KvmClockData), nameof(KvmClockData.HostTsc))]
    [InlineData("kvm_irqchip", "chip", typeof(KvmIrqchip), nameof(KvmIrqchip.Chip))]
    [InlineData("kvm_pit_state2", "flags", typeof(KvmPitState2), nameof(KvmPitState2.Flags))]
    public void Field_offset_matches_the_kernel_header(string cStruct, string cField, Type type, string field)
    {
        Assert.Equal(CHeaderProbe.Get($"offsetof_{cStruct}_{cField}"), (ulong)Marshal.OffsetOf(type, field));
    }

    [Fact]
    public void Variable_length_structs_start_their_entries_after_the_header()
    {
        CHeaderProbe.AssertMatches("offsetof_kvm_msrs_entries", (ulong)Marshal.SizeOf<KvmMsrsHeader>());
        CHeaderProbe.AssertMatches("offsetof_kvm_cpuid2_entries", (ulong)Marshal.SizeOf<KvmCpuid2Header>());
        CHeaderProbe.AssertMatches("sizeof_kvm_xsave", 4096UL);
    }

    [Theory]
    [InlineData("immediate_exit", 1)]
    [InlineData("exit_reason", 8)]
    [InlineData("flags", 14)]
    [InlineData("cr8", 16)]
    [InlineData("apic_base", 24)]
    [InlineData("io.direction", KvmRunOffsets.IoDirection)]
    [InlineData("io.size", KvmRunOffsets.IoSize)]
    [InlineData("io.port", KvmRunOffsets.IoPort)]
    [InlineData("io.count", KvmRunOffsets.IoCount)]
    [InlineData("io.data_offset", KvmRunOffsets.IoDataOffset)]
    [InlineData("mmio.phys_addr", KvmRunOffsets.MmioPhysAddr)]
    [InlineData("mmio.data", KvmRunOffsets.MmioData)]
    [InlineData("mmio.len", KvmRunOffsets.MmioLen)]
    [InlineData("mmio.is_write", KvmRunOffsets.MmioIsWrite)]
    [InlineData("fail_entry.hardware_entry_failure_reason", KvmRunOffsets.FailEntryReason)]
    [InlineData("fail_entry.cpu", KvmRunOffsets.FailEntryCpu)]
    [InlineData("internal.suberror", KvmRunOffsets.InternalSuberror)]
    [InlineData("internal.ndata", KvmRunOffsets.InternalNdata)]
    [InlineData("internal.data", KvmRunOffsets.InternalData)]
    [InlineData("system_event.type", KvmRunOffsets.SystemEventType)]
    [InlineData("ex.exception", KvmRunOffsets.ExException)]
    [InlineData("ex.error_code", KvmRunOffsets.ExErrorCode)]
    public void Kvm_run_offsets_match_the_kernel_header(string cField, int offset)
    {
        Assert.Equal(CHeaderProbe.Get($"offsetof_kvm_run_{cField}"), (ulong)offset);
    }

    [Fact]
    public void Kvm_run_header_fields_sit_where_the_offsets_say()
    {
        Assert.Equal(1, (int)Marshal.OffsetOf<KvmRunHeader>(nameof(KvmRunHeader.ImmediateExit)));
        Assert.Equal(8, (int)Marshal.OffsetOf<KvmRunHeader>(nameof(KvmRunHeader.ExitReason)));
        Assert.Equal(KvmRunHeader.UnionOffset, Marshal.SizeOf<KvmRunHeader>());
    }
}
