using System.Buffers.Binary;
using Tern.Memory;

namespace Tern.Guest.Multiboot;

/// <summary>
/// Writes a Tern guest as a Multiboot 1 kernel that QEMU boots with <c>-kernel</c>: a 32-bit ELF (ELFCLASS32,
/// EM_386; QEMU refuses 64-bit ELF files) with one PT_LOAD segment holding everything from the parameter block to
/// the end of the vCPU areas, and the multiboot header right after the program header. The entry is the image's
/// 32-bit multiboot entry, which switches to long mode and starts the same workload code a direct entry runs.
/// <code>
///   0x00  ELF header (52 bytes)
///   0x34  program header: PT_LOAD, offset 0x1000, paddr = vaddr = 0x100000, filesz = memsz
///   0x54  multiboot header: magic 0x1BADB002, flags 0x2 (memory info), checksum
///   0x1000 segment bytes (the image's blobs at their addresses, zeros between)
/// </code>
/// QEMU puts its multiboot info in the page after the segment: the layout's boot-info page.
/// </summary>
public static class MultibootExporter
{
    /// <summary>
    /// Largest RAM an export is built for: QEMU's pc machine keeps RAM contiguous from 0 only below 3 GiB (q35: 2 GiB);
    /// beyond that RAM moves above 4 GiB, and the guest's flat layout would write into the PCI hole.
    /// </summary>
    public const ulong MaxRamBytes = 2UL << 30;

    private const int ElfHeaderBytes = 52;
    private const int ProgramHeaderBytes = 32;
    private const int SegmentFileOffset = 0x1000;

    /// <summary>Builds a one-vCPU guest for <paramref name="spec"/> and exports it.</summary>
    public static byte[] Export(GuestWorkload spec, ulong ramBytes, ulong tscKhz)
    {
        CheckRam(ramBytes);
        return Export(GuestImageBuilder.Build(spec, ramBytes, new GuestBuildOptions(1, tscKhz)));
    }

    /// <summary>Exports an image built by <see cref="GuestImageBuilder"/> with one vCPU.</summary>
    public static byte[] Export(GuestImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var layout = image.Layout;
        if (layout is null || image.MultibootEntry is not { } entry)
            throw new GuestConfigurationException("only images built by Tern's GuestImageBuilder can be exported as multiboot kernels");
        if (image.Vcpus.Count != 1)
            throw new GuestConfigurationException(
                $"the multiboot export boots one vCPU, not {image.Vcpus.Count}: starting more needs INIT-SIPI and a real-mode AP trampoline, which the exported image does not have");
        CheckRam(image.RamBytes);

        ulong start = GuestLayout.SystemBase;
        ulong end = layout.BootInfo.Value;
        var segment = new byte[end - start];
        foreach (var blob in image.Blobs)
        {
            if (blob.Address.Value < start || blob.Address.Value + (ulong)blob.Bytes.Length > end)
                throw new InvalidOperationException($"{blob.Region} lies outside the exported segment [0x{start:x}, 0x{end:x})");
            blob.Bytes.Span.CopyTo(segment.AsSpan((int)(blob.Address.Value - start)));
        }

        var file = new byte[SegmentFileOffset + segment.Length];
        var f = file.AsSpan();
        // ELF header.
        f[0] = 0x7F; f[1] = (byte)'E'; f[2] = (byte)'L'; f[3] = (byte)'F';
        f[4] = 1; // ELFCLASS32
        f[5] = 1; // ELFDATA2LSB
        f[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(f[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(f[18..], 3); // EM_386
        BinaryPrimitives.WriteUInt32LittleEndian(f[20..], 1); // e_version
        BinaryPrimitives.WriteUInt32LittleEndian(f[24..], checked((uint)entry.Value));
        BinaryPrimitives.WriteUInt32LittleEndian(f[28..], ElfHeaderBytes); // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(f[40..], ElfHeaderBytes); // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(f[42..], ProgramHeaderBytes);
        BinaryPrimitives.WriteUInt16LittleEndian(f[44..], 1); // e_phnum
        BinaryPrimitives.WriteUInt16LittleEndian(f[46..], 40); // e_shentsize (no sections)

        // Program header.
        var ph = f[ElfHeaderBytes..];
        BinaryPrimitives.WriteUInt32LittleEndian(ph, 1); // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], SegmentFileOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[8..], (uint)start); // p_vaddr
        BinaryPrimitives.WriteUInt32LittleEndian(ph[12..], (uint)start); // p_paddr
        BinaryPrimitives.WriteUInt32LittleEndian(ph[16..], (uint)segment.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[20..], (uint)segment.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[24..], 7); // RWX
        BinaryPrimitives.WriteUInt32LittleEndian(ph[28..], PageSize.Bytes);

        // Multiboot header.
        var mb = f[(ElfHeaderBytes + ProgramHeaderBytes)..];
        uint flags = MultibootHeader.FlagMemoryInfo;
        BinaryPrimitives.WriteUInt32LittleEndian(mb, MultibootHeader.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(mb[4..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(mb[8..], unchecked(0u - MultibootHeader.Magic - flags));

        segment.CopyTo(f[SegmentFileOffset..]);
        return file;
    }

    private static void CheckRam(ulong ramBytes)
    {
        if (ramBytes > MaxRamBytes)
            throw new GuestConfigurationException(
                $"--memory {SizeText.Format(ramBytes)}: an exported image can use at most {SizeText.Format(MaxRamBytes)}, because QEMU places RAM above 2-3 GiB at 4 GiB and up while the guest assumes RAM contiguous from 0");
    }
}
