namespace Tern.Guest;

/// <summary>
/// A segment register's hidden state, field for field like <c>struct kvm_segment</c> (which is what the VMM fills
/// from it; KVM's <c>unusable</c> is <c>!Present</c>).
/// </summary>
/// <param name="Type">The 4-bit descriptor type (11 = code execute/read accessed, 3 = data read/write accessed, 11 with S = 0 = busy 64-bit TSS, 2 = LDT).</param>
/// <param name="S">1 for code/data segments, 0 for system segments (TSS, LDT).</param>
/// <param name="Db">Default operand size (0 for 64-bit code).</param>
/// <param name="L">64-bit code segment.</param>
/// <param name="G">Limit in 4 KiB units.</param>
public readonly record struct SegmentRecord(
    ushort Selector, ulong Base, uint Limit, byte Type, bool Present, byte Dpl, bool Db, bool S, bool L, bool G, bool Avl)
{
    public static SegmentRecord Code64(ushort selector, byte dpl) => new(selector, 0, 0xFFFF_FFFF, 11, true, dpl, false, true, true, true, false);

    public static SegmentRecord Code32(ushort selector) => new(selector, 0, 0xFFFF_FFFF, 11, true, 0, true, true, false, true, false);

    public static SegmentRecord Data(ushort selector, byte dpl) => new(selector, 0, 0xFFFF_FFFF, 3, true, dpl, true, true, false, true, false);

    public static SegmentRecord BusyTss(ushort selector, ulong tssBase, uint limit) => new(selector, tssBase, limit, 11, true, 0, false, false, false, false, false);

    /// <summary>No LDT: a null selector, marked not present (KVM: unusable).</summary>
    public static SegmentRecord NoLdt => new(0, 0, 0, 2, false, 0, false, false, false, false, false);
}

/// <summary>GDTR or IDTR: like <c>struct kvm_dtable</c>.</summary>
public readonly record struct DescriptorTableRecord(ulong Base, ushort Limit);
