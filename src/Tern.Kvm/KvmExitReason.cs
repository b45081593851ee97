namespace Tern.Kvm;

/// <summary><c>KVM_EXIT_*</c>: why <c>KVM_RUN</c> returned.</summary>
public enum KvmExitReason : uint
{
    Unknown = 0,
    Exception = 1,
    Io = 2,
    Hypercall = 3,
    Debug = 4,
    Hlt = 5,
    Mmio = 6,
    IrqWindowOpen = 7,
    Shutdown = 8,
    FailEntry = 9,
    Intr = 10,
    SetTpr = 11,
    TprAccess = 12,
    Nmi = 16,
    InternalError = 17,
    SystemEvent = 24,
    X86Rdmsr = 29,
    X86Wrmsr = 30,
    DirtyRingFull = 31,
}
