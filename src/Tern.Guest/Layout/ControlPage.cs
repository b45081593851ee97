using System.Buffers.Binary;

namespace Tern.Guest;

/// <summary>
/// Byte offsets in a vCPU's control page (4 KiB at <see cref="VcpuLayout.ControlPage"/>; rsi holds its address at
/// entry; every field a little-endian u64). Inputs are written by the builder; outputs by the guest as it runs.
/// <code>
///   0x000 Magic "TERNCTL1"      builder      0x080 RegionABase     builder
///   0x008 VcpuIndex              builder      0x088 RegionAPages    builder
///   0x010 State                  guest        0x090 RegionBBase     builder
///   0x018 Counter                guest        0x098 RegionBPages    builder
///   0x020 Heartbeats             guest        0x0A0 PrngKey         builder
///   0x028 NextHeartbeatTsc       guest        0x0A8 ValueTag        builder
///   0x030 RateDeadlineTsc        guest        0x0B0 HotThreshold    builder
///   0x038 HeartbeatPeriodTicks   guest        0x0B8 RateWritesPerSecond builder
///   0x040 RateTicksPerChunk      guest        0x100.. panic record  exception handler
///   0x048 ChunkWrites            builder
/// </code>
/// The counter is stored after each write's data store, so a counter value c means writes [0, c) are in memory and
/// write c may be too (the one in flight). For idle it counts timer ticks, for compute iterations. The rate cap and
/// chunk size are per vCPU (each vCPU may run its own workload).

/// </summary>
public static class ControlPage
{
    private static ulong U(ReadOnlySpan<byte> page, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(page[offset..]);

    public const ulong MagicValue = 0x314C54434E524554;

    public const int Magic = 0x000;
    public const int VcpuIndex = 0x008;
    public const int State = 0x010;
    public const int Counter = 0x018;
    public const int Heartbeats = 0x020;
    public const int NextHeartbeatTsc = 0x028;
    public const int RateDeadlineTsc = 0x030;
    public const int HeartbeatPeriodTicks = 0x038;
    public const int RateTicksPerChunk = 0x040;
    public const int ChunkWrites = 0x048;

    public const int RegionABase = 0x080;
    public const int RegionAPages = 0x088;
    public const int RegionBBase = 0x090;
    public const int RegionBPages = 0x098;
    public const int PrngKey = 0x0A0;
    public const int ValueTag = 0x0A8;
    public const int HotThreshold = 0x0B0;
    /// <summary>This vCPU's rate cap in writes per second (0 = none).</summary>
    public const int RateWritesPerSecond = 0x0B8;

    public const int PanicVector = 0x100;
    public const int PanicErrorCode = 0x108;
    public const int PanicRip = 0x110;
    public const int PanicCs = 0x118;
    public const int PanicRflags = 0x120;
    public const int PanicRsp = 0x128;
    public const int PanicSs = 0x130;
    public const int PanicCr2 = 0x138;

    /// <summary>Reads what a control page says about its vCPU.</summary>
    public static ControlPageSnapshot Read(ReadOnlySpan<byte> page)
    {
        if (page.Length < 0x140) throw new ArgumentException("a control page is 4096 bytes", nameof(page));
        int vcpu = (int)U(page, VcpuIndex);
        var state = (VcpuRunState)U(page, State);
        GuestPanic? panic = state == VcpuRunState.Panicked
            ? new GuestPanic(vcpu, (int)U(page, PanicVector), U(page, PanicErrorCode), U(page, PanicRip), U(page, PanicCs),
                U(page, PanicRflags), U(page, PanicRsp), U(page, PanicSs), U(page, PanicCr2))
            : null;
        return new ControlPageSnapshot(U(page, Magic) == MagicValue, vcpu, state, U(page, Counter), U(page, Heartbeats), panic);
    }
}

/// <summary>The guest-written state word of a control page.</summary>
public enum VcpuRunState : ulong
{
    NotStarted = 0,
    Running = 1,
    Panicked = 2,
}

/// <summary>One reading of a control page.</summary>
public sealed record ControlPageSnapshot(bool MagicValid, int VcpuIndex, VcpuRunState State, ulong Counter, ulong Heartbeats, GuestPanic? Panic);
