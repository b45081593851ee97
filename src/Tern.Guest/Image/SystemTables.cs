using System.Buffers.Binary;
using Tern.Guest.Codegen;
using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// Builds the bytes of the descriptor tables, TSSs and page tables. Descriptors are written with their accessed
/// bits (and the page-table entries with accessed and dirty bits) already set, so the CPU has no reason to write
/// these pages; the TSS descriptors are "available" so that ltr (on the multiboot path) accepts them.
/// </summary>
internal static class SystemTables
{
    /// <summary>Offset in the GDT page of the 10-byte GDTR image (u16 limit, u64 base) the multiboot entry loads.</summary>
    public const int GdtrOffset = 0xF00;

    /// <summary>Offset in the GDT page of the 10-byte IDTR image.</summary>
    public const int IdtrOffset = 0xF10;

    /// <summary>Bytes of a 64-bit TSS proper; the I/O map base field sits at offset 102.</summary>
    private const int TssBytes = 104;

    public const int IdtEntries = 256;
    public const ushort IdtLimit = IdtEntries * 16 - 1;

    // Page-table entry bits.
    private const ulong Present = 1, Writable = 2, User = 4, Accessed = 0x20, Dirty = 0x40, LargePage = 0x80;
    private const ulong TableEntryFlags = Present | Writable | User | Accessed;
    private const ulong LargePageFlags = Present | Writable | User | Accessed | Dirty | LargePage;

    public static GuestAddress GdtrAddress(GuestLayout layout) => layout.Gdt.Add(GdtrOffset);

    public static GuestAddress IdtrAddress(GuestLayout layout) => layout.Gdt.Add(IdtrOffset);

    public static ushort GdtLimit(GuestLayout layout) => (ushort)(GuestLayout.FirstTssSelector + 16 * layout.VcpuCount - 1);

    /// <summary>null, kernel code 64, kernel data, user data, user code 64 (the SYSRET order), then a 16-byte TSS descriptor per vCPU.</summary>
    public static byte[] Gdt(GuestLayout layout)
    {
        var page = new byte[PageSize.Bytes];
        var span = page.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x08..], CpuConstants.GdtKernelCode64);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x10..], CpuConstants.GdtKernelData);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x18..], CpuConstants.GdtUserData);
        BinaryPrimitives.WriteUInt64LittleEndian(span[0x20..], CpuConstants.GdtUserCode64);
        foreach (var v in layout.Vcpus)
            WriteTssDescriptor(span[v.TssSelector..], v.Tss.Value, v.TssLimit);

        BinaryPrimitives.WriteUInt16LittleEndian(span[GdtrOffset..], GdtLimit(layout));
        BinaryPrimitives.WriteUInt64LittleEndian(span[(GdtrOffset + 2)..], layout.Gdt.Value);
        BinaryPrimitives.WriteUInt16LittleEndian(span[IdtrOffset..], IdtLimit);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(IdtrOffset + 2)..], layout.Idt.Value);
        return page;
    }

    /// <summary>A 64-bit available TSS descriptor (type 9, present, DPL 0, byte granularity).</summary>
    private static void WriteTssDescriptor(Span<byte> d, ulong tssBase, uint limit)
    {
        ulong low = (limit & 0xFFFF)
            | ((tssBase & 0xFF_FFFF) << 16)
            | (0x89UL << 40)
            | (((ulong)limit >> 16 & 0xF) << 48)
            | ((tssBase >> 24 & 0xFF) << 56);
        BinaryPrimitives.WriteUInt64LittleEndian(d, low);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], tssBase >> 32);
    }

    /// <summary>
    /// 256 gates: vectors 0-31 are interrupt gates to the exception stubs on IST1; 0x20 (idle's timer) and
    /// 0xFF (spurious) are interrupt gates on the current stack, and so is 0x21 (fill's rest timer) when a vCPU runs
    /// fill. All DPL 0, so `int n` from CPL3 is a #GP.
    /// </summary>
    public static byte[] Idt(GuestCode code)
    {
        var page = new byte[PageSize.Bytes];
        var span = page.AsSpan();
        for (int vector = 0; vector < 32; vector++)
            WriteGate(span[(vector * 16)..], code.ExceptionHandlers[vector].Value, ist: 1);
        WriteGate(span[(CpuConstants.TimerVector * 16)..], code.TimerHandler.Value, ist: 0);
        WriteGate(span[(CpuConstants.SpuriousVector * 16)..], code.SpuriousHandler.Value, ist: 0);
        if (code.RestTimerHandler is { } restTimer)
            WriteGate(span[(CpuConstants.RestTimerVector * 16)..], restTimer.Value, ist: 0);
        return page;
    }

    private static void WriteGate(Span<byte> g, ulong handler, int ist)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(g, (ushort)handler);
        BinaryPrimitives.WriteUInt16LittleEndian(g[2..], CpuConstants.KernelCode);
        g[4] = (byte)ist;
        g[5] = 0x8E; // present, DPL 0, 64-bit interrupt gate
        BinaryPrimitives.WriteUInt16LittleEndian(g[6..], (ushort)(handler >> 16));
        BinaryPrimitives.WriteUInt32LittleEndian(g[8..], (uint)(handler >> 32));
    }

    /// <summary>
    /// One 104-byte TSS per vCPU in 128-byte slots: RSP0 and IST1 at the top of its kernel stack page, and the I/O
    /// map base pointing at the shared bitmap.
    /// </summary>
    public static byte[] TssArea(GuestLayout layout)
    {
        var area = new byte[GuestLayout.TssSlotBytes * GuestBuildOptions.MaxVcpus];
        foreach (var v in layout.Vcpus)
        {
            var tss = area.AsSpan(v.Index * GuestLayout.TssSlotBytes, TssBytes);
            BinaryPrimitives.WriteUInt64LittleEndian(tss[4..], v.KernelStackTop.Value);  // RSP0
            BinaryPrimitives.WriteUInt64LittleEndian(tss[36..], v.KernelStackTop.Value); // IST1
            BinaryPrimitives.WriteUInt16LittleEndian(tss[102..], checked((ushort)(layout.IoBitmap.Value - v.Tss.Value)));
        }
        return area;
    }

    /// <summary>
    /// The I/O permission bitmap all TSSs share. The workloads run at CPL3 with IOPL 0, so in/out are allowed exactly
    /// where a bit is clear: COM1 data and line status, heartbeat and panic. (IOPL 3 would do on hardware, but
    /// kvm_pvm drops IOPL when it emulates the iretq of the multiboot path; it honours the bitmap on both paths.)
    /// </summary>
    public static byte[] IoBitmap()
    {
        var bitmap = new byte[GuestLayout.IoBitmapBytes];
        bitmap.AsSpan().Fill(0xFF);
        foreach (ushort port in AllowedPorts)
            bitmap[port >> 3] &= (byte)~(1 << (port & 7));
        return bitmap;
    }

    /// <summary>The ports CPL3 code may use.</summary>
    private static ReadOnlySpan<ushort> AllowedPorts =>
        [GuestPorts.SerialData, GuestPorts.SerialLineStatus, GuestPorts.Heartbeat, GuestPorts.Panic];

    /// <summary>PML4 -> one PDPT -> one PD per GiB, identity-mapping [0, RAM) with 2 MiB user pages. Nothing beyond RAM is mapped.</summary>
    public static byte[] PageTables(GuestLayout layout)
    {
        var bytes = new byte[layout.PageTables.Length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(span, layout.Pdpt.Value | TableEntryFlags);
        var pdpt = span.Slice(PageSize.Bytes, PageSize.Bytes);
        for (int g = 0; g < layout.PageDirectoryCount; g++)
        {
            ulong pd = layout.FirstPageDirectory.Value + (ulong)g * PageSize.Bytes;
            BinaryPrimitives.WriteUInt64LittleEndian(pdpt[(g * 8)..], pd | TableEntryFlags);
        }
        var pds = span[(2 * PageSize.Bytes)..];
        ulong largePages = layout.RamBytes / GuestLayout.LargePageBytes;
        for (ulong i = 0; i < largePages; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(pds[(int)(i * 8)..], (i * GuestLayout.LargePageBytes) | LargePageFlags);
        return bytes;
    }
}
