namespace Tern.Kvm;

/// <summary>KVM capabilities Tern checks for, with their <c>KVM_CAP_*</c> numbers.</summary>
public enum KvmCapability
{
    Irqchip = 0,
    Hlt = 1,
    UserMemory = 3,
    SetTssAddr = 4,
    ExtCpuid = 7,
    NrVcpus = 9,
    NrMemslots = 10,
    Pit = 11,
    MpState = 14,
    Pit2 = 33,
    AdjustClock = 39,
    VcpuEvents = 41,
    DebugRegs = 50,
    Xsave = 55,
    Xcrs = 56,
    TscControl = 60,
    GetTscKhz = 61,
    MaxVcpus = 66,
    X2ApicApi = 129,
    ImmediateExit = 136,
    ManualDirtyLogProtect2 = 168,
    DirtyLogRing = 192,
    Xsave2 = 208,
    DirtyLogRingAcqRel = 223,
}
