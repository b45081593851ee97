using System.Runtime.InteropServices;

namespace Tern.Kvm.Structs;

/// <summary><c>struct kvm_msr_entry</c> (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmMsrEntry
{
    public uint Index;
    public uint Reserved;
    public ulong Data;
}

/// <summary>Header of <c>struct kvm_msrs</c> (8 bytes), followed by <c>nmsrs</c> entries.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmMsrsHeader
{
    public uint Nmsrs;
    public uint Pad;
}

/// <summary><c>struct kvm_lapic_state</c> (1024 bytes): the local APIC register page.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmLapicState
{
    public fixed byte Regs[1024];
}

/// <summary>
/// <c>struct kvm_vcpu_events</c> (64 bytes): pending exceptions, interrupts, NMIs, SMIs. Tern saves and restores it
/// whole; only <see cref="Flags"/> is interpreted (it says which parts are valid).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct KvmVcpuEvents
{
    [FieldOffset(0)] public byte ExceptionInjected;
    [FieldOffset(1)] public byte ExceptionNr;
    [FieldOffset(8)] public byte InterruptInjected;
    [FieldOffset(12)] public byte NmiInjected;
    [FieldOffset(13)] public byte NmiPending;
    [FieldOffset(16)] public uint SipiVector;
    [FieldOffset(20)] public uint Flags;
    [FieldOffset(28)] public byte TripleFaultPending;
    [FieldOffset(56)] public ulong ExceptionPayload;

    public const uint ValidNmiPending = 0x1;
    public const uint ValidSipiVector = 0x2;
    public const uint ValidShadow = 0x4;
    public const uint ValidSmm = 0x8;
}

/// <summary><c>struct kvm_mp_state</c> (4 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmMpState
{
    public uint MpState;

    public const uint Runnable = 0;
    public const uint Uninitialized = 1;
    public const uint InitReceived = 2;
    public const uint Halted = 3;
    public const uint SipiReceived = 4;
}

/// <summary><c>struct kvm_debugregs</c> (128 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmDebugRegs
{
    public fixed ulong Db[4];
    public ulong Dr6, Dr7, Flags;
    public fixed ulong Reserved[9];
}

/// <summary><c>struct kvm_xcr</c> (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmXcr
{
    public uint Xcr;
    public uint Reserved;
    public ulong Value;
}

/// <summary><c>struct kvm_xcrs</c> (392 bytes): extended control registers (XCR0).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmXcrs
{
    public uint NrXcrs;
    public uint Flags;
    public fixed byte XcrsRaw[16 * 16];
    public fixed ulong Padding[16];
}

/// <summary><c>struct kvm_cpuid_entry2</c> (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmCpuidEntry2
{
    public uint Function, Index, Flags, Eax, Ebx, Ecx, Edx;
    public fixed uint Padding[3];
}

/// <summary>Header of <c>struct kvm_cpuid2</c> (8 bytes), followed by <c>nent</c> entries.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmCpuid2Header
{
    public uint Nent;
    public uint Padding;
}
