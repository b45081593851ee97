using System.Runtime.InteropServices;

namespace Tern.Kvm.Structs;

/// <summary><c>struct kvm_userspace_memory_region</c> (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmUserspaceMemoryRegion
{
    public uint Slot;
    public uint Flags;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;

    /// <summary><c>KVM_MEM_LOG_DIRTY_PAGES</c>.</summary>
    public const uint LogDirtyPages = 1;
}

/// <summary><c>struct kvm_dirty_log</c> (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmDirtyLog
{
    public uint Slot;
    public uint Padding;
    public nint DirtyBitmap;
}

/// <summary><c>struct kvm_clear_dirty_log</c> (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmClearDirtyLog
{
    public uint Slot;
    public uint NumPages;
    public ulong FirstPage;
    public nint DirtyBitmap;
}

/// <summary><c>struct kvm_dirty_gfn</c> (16 bytes): one dirty-ring entry.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmDirtyGfn
{
    public uint Flags;
    public uint Slot;
    public ulong Offset;

    /// <summary>Set by KVM when the entry holds a dirty page.</summary>
    public const uint FlagDirty = 1;
    /// <summary>Set by the VMM once harvested; <c>KVM_RESET_DIRTY_RINGS</c> then recycles the entry.</summary>
    public const uint FlagReset = 2;
}

/// <summary><c>struct kvm_enable_cap</c> (104 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmEnableCap
{
    public uint Cap;
    public uint Flags;
    public fixed ulong Args[4];
    public fixed byte Pad[64];
}
