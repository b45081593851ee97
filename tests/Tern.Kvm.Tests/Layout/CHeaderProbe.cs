namespace Tern.Kvm.Tests.Layout;

/// <summary>
/// Compiles a small C program against the system's kernel headers and runs it, so that the tests compare Tern's
/// struct layouts, ioctl numbers and constants with what <c>linux/kvm.h</c> really says on this machine.
/// </summary>
internal static class CHeaderProbe
{
    private static readonly Lazy<IReadOnlyDictionary<string, ulong>> Values = new(() => CProgramProbe.CompileAndRun(Program, "the kernel-header probe"));

    public static ulong Get(string name) =>
        Values.Value.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"the C probe printed no value named {name}");

    /// <summary>Asserts that Tern's value for a C name equals the header's, with a message naming both.</summary>
    public static void AssertMatches(string cName, ulong ternValue)
    {
        ulong header = Get(cName);
        Assert.True(header == ternValue, $"{cName}: the kernel header says {header}, Tern uses {ternValue}");
    }

    private const string Program = """
        #define _GNU_SOURCE
        #include <linux/kvm.h>
        #include <signal.h>
        #include <stddef.h>
        #include <stdio.h>
        #define S(t) printf("sizeof_%s %zu\n", #t, sizeof(struct t));
        #define O(t, f) printf("offsetof_%s_%s %zu\n", #t, #f, offsetof(struct t, f));
        #define V(n) printf("%s %llu\n", #n, (unsigned long long)(n));
        int main(void) {
          S(kvm_regs) S(kvm_sregs) S(kvm_segment) S(kvm_dtable) S(kvm_fpu) S(kvm_userspace_memory_region)
          S(kvm_dirty_log) S(kvm_clear_dirty_log) S(kvm_dirty_gfn) S(kvm_enable_cap) S(kvm_msr_entry) S(kvm_msrs)
          S(kvm_lapic_state) S(kvm_vcpu_events) S(kvm_mp_state) S(kvm_debugregs) S(kvm_xcr) S(kvm_xcrs) S(kvm_xsave)
          S(kvm_cpuid_entry2) S(kvm_cpuid2) S(kvm_clock_data) S(kvm_irqchip) S(kvm_pit_config) S(kvm_pit_state2) S(sigaction)
          O(kvm_regs, rip) O(kvm_regs, rflags) O(kvm_regs, r8)
          O(kvm_sregs, cs) O(kvm_sregs, tr) O(kvm_sregs, ldt) O(kvm_sregs, gdt) O(kvm_sregs, idt) O(kvm_sregs, cr0)
          O(kvm_sregs, cr3) O(kvm_sregs, efer) O(kvm_sregs, apic_base) O(kvm_sregs, interrupt_bitmap)
          O(kvm_segment, limit) O(kvm_segment, selector) O(kvm_segment, type) O(kvm_segment, l) O(kvm_segment, unusable)
          O(kvm_fpu, fcw) O(kvm_fpu, last_ip) O(kvm_fpu, xmm) O(kvm_fpu, mxcsr)
          O(kvm_userspace_memory_region, guest_phys_addr) O(kvm_userspace_memory_region, userspace_addr)
          O(kvm_dirty_log, dirty_bitmap) O(kvm_clear_dirty_log, num_pages) O(kvm_clear_dirty_log, first_page)
          O(kvm_clear_dirty_log, dirty_bitmap) O(kvm_dirty_gfn, slot) O(kvm_dirty_gfn, offset) O(kvm_enable_cap, args)
          O(kvm_msr_entry, data) O(kvm_msrs, entries)
          O(kvm_vcpu_events, interrupt) O(kvm_vcpu_events, nmi) O(kvm_vcpu_events, sipi_vector) O(kvm_vcpu_events, flags)
          O(kvm_vcpu_events, triple_fault) O(kvm_vcpu_events, exception_payload)
          O(kvm_debugregs, dr6) O(kvm_debugregs, dr7) O(kvm_debugregs, flags)
          O(kvm_xcrs, xcrs) O(kvm_xcrs, padding) O(kvm_cpuid_entry2, eax) O(kvm_cpuid_entry2, edx) O(kvm_cpuid2, entries)
          O(kvm_clock_data, flags) O(kvm_clock_data, realtime) O(kvm_clock_data, host_tsc)
          O(kvm_irqchip, chip) O(kvm_pit_state2, flags)
          O(kvm_run, immediate_exit) O(kvm_run, exit_reason) O(kvm_run, flags) O(kvm_run, cr8) O(kvm_run, apic_base)
          O(kvm_run, io.direction) O(kvm_run, io.size) O(kvm_run, io.port) O(kvm_run, io.count) O(kvm_run, io.data_offset)
          O(kvm_run, mmio.phys_addr) O(kvm_run, mmio.data) O(kvm_run, mmio.len) O(kvm_run, mmio.is_write)
          O(kvm_run, fail_entry.hardware_entry_failure_reason) O(kvm_run, fail_entry.cpu)
          O(kvm_run, internal.suberror) O(kvm_run, internal.ndata) O(kvm_run, internal.data)
          O(kvm_run, system_event.type) O(kvm_run, ex.exception) O(kvm_run, ex.error_code)
          O(sigaction, sa_mask) O(sigaction, sa_flags) O(sigaction, sa_restorer)
          V(KVM_GET_API_VERSION) V(KVM_CREATE_VM) V(KVM_GET_MSR_INDEX_LIST) V(KVM_CHECK_EXTENSION) V(KVM_GET_VCPU_MMAP_SIZE)
          V(KVM_GET_SUPPORTED_CPUID) V(KVM_CREATE_VCPU) V(KVM_GET_DIRTY_LOG) V(KVM_SET_USER_MEMORY_REGION) V(KVM_SET_TSS_ADDR)
          V(KVM_SET_IDENTITY_MAP_ADDR) V(KVM_CREATE_IRQCHIP) V(KVM_GET_IRQCHIP) V(KVM_SET_IRQCHIP) V(KVM_CREATE_PIT2)
          V(KVM_SET_CLOCK) V(KVM_GET_CLOCK) V(KVM_GET_PIT2) V(KVM_SET_PIT2) V(KVM_ENABLE_CAP) V(KVM_CLEAR_DIRTY_LOG)
          V(KVM_RESET_DIRTY_RINGS) V(KVM_RUN) V(KVM_GET_REGS) V(KVM_SET_REGS) V(KVM_GET_SREGS) V(KVM_SET_SREGS)
          V(KVM_GET_MSRS) V(KVM_SET_MSRS) V(KVM_GET_FPU) V(KVM_SET_FPU) V(KVM_GET_LAPIC) V(KVM_SET_LAPIC) V(KVM_SET_CPUID2)
          V(KVM_GET_MP_STATE) V(KVM_SET_MP_STATE) V(KVM_GET_VCPU_EVENTS) V(KVM_SET_VCPU_EVENTS) V(KVM_GET_DEBUGREGS)
          V(KVM_SET_DEBUGREGS) V(KVM_SET_TSC_KHZ) V(KVM_GET_TSC_KHZ) V(KVM_GET_XSAVE) V(KVM_SET_XSAVE) V(KVM_GET_XCRS)
          V(KVM_SET_XCRS) V(KVM_KVMCLOCK_CTRL) V(KVM_GET_XSAVE2)
          V(KVM_CAP_IRQCHIP) V(KVM_CAP_HLT) V(KVM_CAP_USER_MEMORY) V(KVM_CAP_SET_TSS_ADDR) V(KVM_CAP_EXT_CPUID)
          V(KVM_CAP_NR_VCPUS) V(KVM_CAP_NR_MEMSLOTS) V(KVM_CAP_PIT) V(KVM_CAP_MP_STATE) V(KVM_CAP_PIT2) V(KVM_CAP_ADJUST_CLOCK)
          V(KVM_CAP_VCPU_EVENTS) V(KVM_CAP_DEBUGREGS) V(KVM_CAP_XSAVE) V(KVM_CAP_XCRS) V(KVM_CAP_TSC_CONTROL) V(KVM_CAP_GET_TSC_KHZ)
          V(KVM_CAP_MAX_VCPUS) V(KVM_CAP_X2APIC_API) V(KVM_CAP_IMMEDIATE_EXIT) V(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)
          V(KVM_CAP_DIRTY_LOG_RING) V(KVM_CAP_XSAVE2) V(KVM_CAP_DIRTY_LOG_RING_ACQ_REL)
          V(KVM_EXIT_UNKNOWN) V(KVM_EXIT_EXCEPTION) V(KVM_EXIT_IO) V(KVM_EXIT_HYPERCALL) V(KVM_EXIT_DEBUG) V(KVM_EXIT_HLT)
          V(KVM_EXIT_MMIO) V(KVM_EXIT_IRQ_WINDOW_OPEN) V(KVM_EXIT_SHUTDOWN) V(KVM_EXIT_FAIL_ENTRY) V(KVM_EXIT_INTR)
          V(KVM_EXIT_SET_TPR) V(KVM_EXIT_TPR_ACCESS) V(KVM_EXIT_NMI) V(KVM_EXIT_INTERNAL_ERROR) V(KVM_EXIT_SYSTEM_EVENT)
          V(KVM_EXIT_X86_RDMSR) V(KVM_EXIT_X86_WRMSR) V(KVM_EXIT_DIRTY_RING_FULL)
          V(KVM_MEM_LOG_DIRTY_PAGES) V(KVM_DIRTY_GFN_F_DIRTY) V(KVM_DIRTY_GFN_F_RESET) V(KVM_DIRTY_LOG_PAGE_OFFSET)
          V(KVM_MP_STATE_RUNNABLE) V(KVM_MP_STATE_UNINITIALIZED) V(KVM_MP_STATE_HALTED)
          V(KVM_VCPUEVENT_VALID_NMI_PENDING) V(KVM_VCPUEVENT_VALID_SIPI_VECTOR) V(KVM_VCPUEVENT_VALID_SHADOW) V(KVM_VCPUEVENT_VALID_SMM)
          V(KVM_IRQCHIP_PIC_MASTER) V(KVM_IRQCHIP_PIC_SLAVE) V(KVM_IRQCHIP_IOAPIC)
          V(SIGUSR1)
          return 0;
        }
        """;
}
