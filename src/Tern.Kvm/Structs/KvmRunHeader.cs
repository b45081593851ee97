using System.Runtime.InteropServices;

namespace Tern.Kvm.Structs;

/// <summary>
/// The fixed head of <c>struct kvm_run</c>, the page shared with KVM for each vCPU. The exit-specific union starts
/// at <see cref="UnionOffset"/>; <see cref="KvmRunOffsets"/> lists the fields Tern reads in it.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmRunHeader
{
    public byte RequestInterruptWindow;
    public byte ImmediateExit;
    private byte padding0, padding1, padding2, padding3, padding4, padding5;
    public uint ExitReason;
    public byte ReadyForInterruptInjection;
    public byte IfFlag;
    public ushort Flags;
    public ulong Cr8;
    public ulong ApicBase;

    public const int UnionOffset = 32;
}

/// <summary>Offsets into <c>struct kvm_run</c> of the union members Tern decodes (layout-tested against the header).</summary>
public static class KvmRunOffsets
{
    // io: __u8 direction; __u8 size; __u16 port; __u32 count; __u64 data_offset;
    public const int IoDirection = 32;
    public const int IoSize = 33;
    public const int IoPort = 34;
    public const int IoCount = 36;
    public const int IoDataOffset = 40;
    // mmio: __u64 phys_addr; __u8 data[8]; __u32 len; __u8 is_write;
    public const int MmioPhysAddr = 32;
    public const int MmioData = 40;
    public const int MmioLen = 48;
    public const int MmioIsWrite = 52;
    // fail_entry: __u64 hardware_entry_failure_reason; __u32 cpu;
    public const int FailEntryReason = 32;
    public const int FailEntryCpu = 40;
    // internal: __u32 suberror; __u32 ndata; __u64 data[16];
    public const int InternalSuberror = 32;
    public const int InternalNdata = 36;
    public const int InternalData = 40;
    // system_event: __u32 type; __u32 ndata; __u64 data[16];
    public const int SystemEventType = 32;
    public const int SystemEventNdata = 36;
    // ex: __u32 exception; __u32 error_code;
    public const int ExException = 32;
    public const int ExErrorCode = 36;
}
