using System.Runtime.InteropServices;

namespace Tern.Kvm.Structs;

/// <summary><c>struct kvm_clock_data</c> (48 bytes): the guest's kvmclock.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmClockData
{
    public ulong Clock;
    public uint Flags;
    public uint Pad0;
    public ulong Realtime;
    public ulong HostTsc;
    public fixed uint Pad[4];

    public const uint TscStable = 2;
    public const uint Realtime_ = 4;
    public const uint HostTsc_ = 8;
}

/// <summary><c>struct kvm_irqchip</c> (520 bytes): the state of one in-kernel interrupt controller.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmIrqchip
{
    public uint ChipId;
    public uint Pad;
    public fixed byte Chip[512];

    public const uint PicMaster = 0;
    public const uint PicSlave = 1;
    public const uint IoApic = 2;
}

/// <summary><c>struct kvm_pit_config</c> (64 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmPitConfig
{
    public uint Flags;
    public fixed uint Pad[15];
}

/// <summary><c>struct kvm_pit_state2</c> (112 bytes): the in-kernel i8254 PIT, saved whole.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmPitState2
{
    public fixed byte Channels[72];
    public uint Flags;
    public fixed uint Reserved[9];
}
