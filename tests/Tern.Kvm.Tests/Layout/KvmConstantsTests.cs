using Tern.Kvm.Structs;

namespace Tern.Kvm.Tests.Layout;

/// <summary>Every ioctl number, capability, exit reason and flag Tern uses equals the kernel header's value.</summary>
public sealed class KvmConstantsTests
{
    public static TheoryData<string, ulong> Ioctls => new()
    {
        { "KVM_GET_API_VERSION", KvmIoctls.GetApiVersion }, { "KVM_CREATE_VM", KvmIoctls.CreateVm },
        { "KVM_GET_MSR_INDEX_LIST", KvmIoctls.GetMsrIndexList }, { "KVM_CHECK_EXTENSION", KvmIoctls.CheckExtension },
        { "KVM_GET_VCPU_MMAP_SIZE", KvmIoctls.GetVcpuMmapSize }, { "KVM_GET_SUPPORTED_CPUID", KvmIoctls.GetSupportedCpuid },
        { "KVM_CREATE_VCPU", KvmIoctls.CreateVcpu }, { "KVM_GET_DIRTY_LOG", KvmIoctls.GetDirtyLog },
        { "KVM_SET_USER_MEMORY_REGION", KvmIoctls.SetUserMemoryRegion }, { "KVM_SET_TSS_ADDR", KvmIoctls.SetTssAddr },
        { "KVM_SET_IDENTITY_MAP_ADDR", KvmIoctls.SetIdentityMapAddr }, { "KVM_CREATE_IRQCHIP", KvmIoctls.CreateIrqchip },
        { "KVM_GET_IRQCHIP", KvmIoctls.GetIrqchip }, { "KVM_SET_IRQCHIP", KvmIoctls.SetIrqchip },
        { "KVM_CREATE_PIT2", KvmIoctls.CreatePit2 }, { "KVM_SET_CLOCK", KvmIoctls.SetClock }, { "KVM_GET_CLOCK", KvmIoctls.GetClock },
        { "KVM_GET_PIT2", KvmIoctls.GetPit2 }, { "KVM_SET_PIT2", KvmIoctls.SetPit2 }, { "KVM_ENABLE_CAP", KvmIoctls.EnableCap },
        { "KVM_CLEAR_DIRTY_LOG", KvmIoctls.ClearDirtyLog }, { "KVM_RESET_DIRTY_RINGS", KvmIoctls.ResetDirtyRings },
        { "KVM_RUN", KvmIoctls.Run }, { "KVM_GET_REGS", KvmIoctls.GetRegs }, { "KVM_SET_REGS", KvmIoctls.SetRegs },
        { "KVM_GET_SREGS", KvmIoctls.GetSregs }, { "KVM_SET_SREGS", KvmIoctls.SetSregs },
        { "KVM_GET_MSRS", KvmIoctls.GetMsrs }, { "KVM_SET_MSRS", KvmIoctls.SetMsrs },
        { "KVM_GET_FPU", KvmIoctls.GetFpu }, { "KVM_SET_FPU", KvmIoctls.SetFpu },
        { "KVM_GET_LAPIC", KvmIoctls.GetLapic }, { "KVM_SET_LAPIC", KvmIoctls.SetLapic }, { "KVM_SET_CPUID2", KvmIoctls.SetCpuid2 },
        { "KVM_GET_MP_STATE", KvmIoctls.GetMpState }, { "KVM_SET_MP_STATE", KvmIoctls.SetMpState },
        { "KVM_GET_VCPU_EVENTS", KvmIoctls.GetVcpuEvents }, { "KVM_SET_VCPU_EVENTS", KvmIoctls.SetVcpuEvents },
        { "KVM_GET_DEBUGREGS", KvmIoctls.GetDebugRegs }, { "KVM_SET_DEBUGREGS", KvmIoctls.SetDebugRegs },
        { "KVM_SET_TSC_KHZ", KvmIoctls.SetTscKhz }, { "KVM_GET_TSC_KHZ", KvmIoctls.GetTscKhz },
        { "KVM_GET_XSAVE", KvmIoctls.GetXsave }, { "KVM_SET_XSAVE", KvmIoctls.SetXsave },
        { "KVM_GET_XCRS", KvmIoctls.GetXcrs }, { "KVM_SET_XCRS", KvmIoctls.SetXcrs },
        { "KVM_KVMCLOCK_CTRL", KvmIoctls.KvmclockCtrl }, { "KVM_GET_XSAVE2", KvmIoctls.GetXsave2 },
    };

    [Theory]
    [MemberData(nameof(Ioctls))]
    public void Ioctl_number_matches_the_kernel_header(string name, ulong value) => Assert.Equal(CHeaderProbe.Get(name), value);

    public static TheoryData<string, KvmCapability> Capabilities => new()
    {
        { "KVM_CAP_IRQCHIP", KvmCapability.Irqchip },
        { "KVM_CAP_HLT", KvmCapability.Hlt },
        { "KVM_CAP_USER_MEMORY", KvmCapability.UserMemory },
        { "KVM_CAP_SET_TSS_ADDR", KvmCapability.SetTssAddr },
        { "KVM_CAP_EXT_CPUID", KvmCapability.ExtCpuid },
        { "KVM_CAP_NR_VCPUS", KvmCapability.NrVcpus },
        { "KVM_CAP_NR_MEMSLOTS", KvmCapability.NrMemslots },
        { "KVM_CAP_PIT", KvmCapability.Pit },
        { "KVM_CAP_MP_STATE", KvmCapability.MpState },
        { "KVM_CAP_PIT2", KvmCapability.Pit2 },
        { "KVM_CAP_ADJUST_CLOCK", KvmCapability.AdjustClock },
        { "KVM_CAP_VCPU_EVENTS", KvmCapability.VcpuEvents },
        { "KVM_CAP_DEBUGREGS", KvmCapability.DebugRegs },
        { "KVM_CAP_XSAVE", KvmCapability.Xsave },
        { "KVM_CAP_XCRS", KvmCapability.Xcrs },
        { "KVM_CAP_TSC_CONTROL", KvmCapability.TscControl },
        { "KVM_CAP_GET_TSC_KHZ", KvmCapability.GetTscKhz },
        { "KVM_CAP_MAX_VCPUS", KvmCapability.MaxVcpus },
        { "KVM_CAP_X2APIC_API", KvmCapability.X2ApicApi },
        { "KVM_CAP_IMMEDIATE_EXIT", KvmCapability.ImmediateExit },
        { "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2", KvmCapability.ManualDirtyLogProtect2 },
        { "KVM_CAP_DIRTY_LOG_RING", KvmCapability.DirtyLogRing },
        { "KVM_CAP_XSAVE2", KvmCapability.Xsave2 },
        { "KVM_CAP_DIRTY_LOG_RING_ACQ_REL", KvmCapability.DirtyLogRingAcqRel },
    };

    [Theory]
    [MemberData(nameof(Capabilities))]
    public void Capability_number_matches_the_kernel_header(string name, KvmCapability capability) =>
        CHeaderProbe.AssertMatches(name, (ulong)capability);

    [Fact]
    public void Every_capability_is_checked() =>
        Assert.Equal(Enum.GetValues<KvmCapability>().Length, Capabilities.Count);

    public static TheoryData<string, KvmExitReason> ExitReasons => new()
    {
        { "KVM_EXIT_UNKNOWN", KvmExitReason.Unknown },
        { "KVM_EXIT_EXCEPTION", KvmExitReason.Exception },
        { "KVM_EXIT_IO", KvmExitReason.Io },
        { "KVM_EXIT_HYPERCALL", KvmExitReason.Hypercall },
        { "KVM_EXIT_DEBUG", KvmExitReason.Debug },
        { "KVM_EXIT_HLT", KvmExitReason.Hlt },
        { "KVM_EXIT_MMIO", KvmExitReason.Mmio },
        { "KVM_EXIT_IRQ_WINDOW_OPEN", KvmExitReason.IrqWindowOpen },
        { "KVM_EXIT_SHUTDOWN", KvmExitReason.Shutdown },
        { "KVM_EXIT_FAIL_ENTRY", KvmExitReason.FailEntry },
        { "KVM_EXIT_INTR", KvmExitReason.Intr },
        { "KVM_EXIT_SET_TPR", KvmExitReason.SetTpr },
        { "KVM_EXIT_TPR_ACCESS", KvmExitReason.TprAccess },
        { "KVM_EXIT_NMI", KvmExitReason.Nmi },
        { "KVM_EXIT_INTERNAL_ERROR", KvmExitReason.InternalError },
        { "KVM_EXIT_SYSTEM_EVENT", KvmExitReason.SystemEvent },
        { "KVM_EXIT_X86_RDMSR", KvmExitReason.X86Rdmsr },
        { "KVM_EXIT_X86_WRMSR", KvmExitReason.X86Wrmsr },
        { "KVM_EXIT_DIRTY_RING_FULL", KvmExitReason.DirtyRingFull },
    };

    [Theory]
    [MemberData(nameof(ExitReasons))]
    public void Exit_reason_matches_the_kernel_header(string name, KvmExitReason reason) =>
        CHeaderProbe.AssertMatches(name, (ulong)reason);

    [Fact]
    public void Every_exit_reason_is_checked() =>
        Assert.Equal(Enum.GetValues<KvmExitReason>().Length, ExitReasons.Count);

    [Fact]
    public void Flags_and_small_constants_match_the_kernel_header()
    {
        CHeaderProbe.AssertMatches("KVM_MEM_LOG_DIRTY_PAGES", KvmUserspaceMemoryRegion.LogDirtyPages);
        CHeaderProbe.AssertMatches("KVM_DIRTY_GFN_F_DIRTY", KvmDirtyGfn.FlagDirty);
        CHeaderProbe.AssertMatches("KVM_DIRTY_GFN_F_RESET", KvmDirtyGfn.FlagReset);
        CHeaderProbe.AssertMatches("KVM_DIRTY_LOG_PAGE_OFFSET", (ulong)KvmDirtyRing.PageOffset);
        CHeaderProbe.AssertMatches("KVM_MP_STATE_RUNNABLE", KvmMpState.Runnable);
        CHeaderProbe.AssertMatches("KVM_MP_STATE_UNINITIALIZED", KvmMpState.Uninitialized);
        CHeaderProbe.AssertMatches("KVM_MP_STATE_HALTED", KvmMpState.Halted);
        CHeaderProbe.AssertMatches("KVM_VCPUEVENT_VALID_NMI_PENDING", KvmVcpuEvents.ValidNmiPending);
        CHeaderProbe.AssertMatches("KVM_VCPUEVENT_VALID_SIPI_VECTOR", KvmVcpuEvents.ValidSipiVector);
        CHeaderProbe.AssertMatches("KVM_VCPUEVENT_VALID_SHADOW", KvmVcpuEvents.ValidShadow);
        CHeaderProbe.AssertMatches("KVM_VCPUEVENT_VALID_SMM", KvmVcpuEvents.ValidSmm);
        CHeaderProbe.AssertMatches("KVM_IRQCHIP_PIC_MASTER", KvmIrqchip.PicMaster);
        CHeaderProbe.AssertMatches("KVM_IRQCHIP_PIC_SLAVE", KvmIrqchip.PicSlave);
        CHeaderProbe.AssertMatches("KVM_IRQCHIP_IOAPIC", KvmIrqchip.IoApic);
    }
}
