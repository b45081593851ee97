namespace Tern.Guest;

/// <summary>
/// Byte offsets of the guest's parameter block (one 4 KiB page at <see cref="GuestLayout.ParameterBlock"/>;
/// every field a little-endian u64 unless noted). The builder writes it; the guest only reads it.
/// rdx holds its address at entry.
/// </summary>
public static class ParameterBlock
{
    /// <summary>"TERNGST1" as a little-endian u64.</summary>
    public const ulong MagicValue = 0x315453474E524554;

    public const int Magic = 0x000;
    /// <summary>u32 layout version (<see cref="Version"/>), then u32 <see cref="WorkloadKind"/>.</summary>
    public const int LayoutVersion = 0x008;
    public const int Kind = 0x00C;
    public const int VcpuCount = 0x010;
    public const int RamBytes = 0x018;
    public const int WorkingSetBase = 0x020;
    public const int WorkingSetBytes = 0x028;
    /// <summary>Guest TSC frequency in kHz: ticks per millisecond, the heartbeat period.</summary>
    public const int TscKhz = 0x030;
    /// <summary>The rate cap as workload writes per second (0 = no cap).</summary>
    public const int RateWritesPerSecond = 0x038;
    /// <summary>Writes between two looks at the TSC (heartbeat and rate cap).</summary>
    public const int ChunkWrites = 0x040;
    /// <summary>idle: x2APIC timer initial count for a ~1 ms period.</summary>
    public const int ApicTimerInitialCount = 0x048;
    public const int Seed = 0x050;
    public const int FirstVcpuArea = 0x058;
    public const int VcpuAreaStride = 0x060;
    public const int BannerLength = 0x068;
    /// <summary>The serial banner bytes, up to <see cref="BannerCapacity"/>.</summary>
    public const int Banner = 0x070;
    public const int BannerCapacity = 0x90;
    public const int SpecLength = 0x100;
    /// <summary>The workload string (ASCII; a per-vCPU list may be long), so a loader can recover the workload from an exported image.</summary>
    public const int Spec = 0x108;
    public const int SpecCapacity = 0xDF8;
    public const int BootMessageLength = 0xF00;
    /// <summary>What the 32-bit multiboot entry prints before halting when the loader gave it too little RAM.</summary>
    public const int BootMessage = 0xF08;
    public const int BootMessageCapacity = 0xF8;

    /// <summary>2: rate cap and chunk size per vCPU in the control pages, room for per-vCPU workload strings (1 had neither).</summary>
    public const uint Version = 2;
}
