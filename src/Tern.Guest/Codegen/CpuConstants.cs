namespace Tern.Guest.Codegen;

/// <summary>Architectural constants of the machine state the guest runs in; shared by the code and the entry state.</summary>
internal static class CpuConstants
{
    /// <summary>PG | AM | WP | NE | ET | MP | PE.</summary>
    public const ulong Cr0 = 0x8005_0033;

    /// <summary>PAE | OSFXSR | OSXMMEXCPT.</summary>
    public const ulong Cr4 = 0x620;

    /// <summary>LME | LMA (the entry state); the multiboot path sets LME and the CPU sets LMA.</summary>
    public const ulong Efer = 0x500;
    public const uint EferLme = 0x100;
    public const uint EferMsr = 0xC000_0080;

    /// <summary>
    /// Only the reserved bit 1: IOPL 0 and IF clear. CPL3 reaches its four ports through the TSS I/O permission
    /// bitmap (see <see cref="SystemTables.IoBitmap"/>), on hardware and on kvm_pvm alike.
    /// </summary>
    public const ulong UserRflags = 0x2;
    public const ulong KernelRflags = 0x2;

    public const ushort KernelCode = 0x08;
    public const ushort KernelData = 0x10;
    public const ushort UserData = 0x18 | 3;
    public const ushort UserCode = 0x20 | 3;

    public const ulong GdtKernelCode64 = 0x00AF_9B00_0000_FFFF;
    public const ulong GdtKernelData = 0x00CF_9300_0000_FFFF;
    public const ulong GdtUserData = 0x00CF_F300_0000_FFFF;
    public const ulong GdtUserCode64 = 0x00AF_FB00_0000_FFFF;

    public const int TimerVector = 0x20;
    public const int SpuriousVector = 0xFF;

    /// <summary>fill's rest timer: like <see cref="TimerVector"/> but it only heartbeats (fill's counter counts writes).</summary>
    public const int RestTimerVector = 0x21;

    /// <summary>#UD: fill enters its CPL0 rest by a ud2 at its rest site (a software interrupt from CPL3 is not delivered on kvm_pvm).</summary>
    public const int InvalidOpcodeVector = 6;

    public const uint X2ApicBaseMsr = 0x1B;
    public const uint X2ApicEnableBits = 0xC00;
    public const uint X2ApicEoi = 0x80B;
    public const uint X2ApicSpurious = 0x80F;
    public const uint X2ApicLvtTimer = 0x832;
    public const uint X2ApicLvtLint0 = 0x835;
    public const uint X2ApicLvtLint1 = 0x836;
    public const uint X2ApicLvtError = 0x837;
    public const uint X2ApicInitialCount = 0x838;
    public const uint X2ApicDivide = 0x83E;
    public const uint LvtMasked = 0x1_0000;
    public const uint LvtPeriodic = 0x2_0000;
    public const uint DivideBy1 = 0xB;

    public const uint MultibootBootloaderMagic = 0x2BAD_B002;
}
