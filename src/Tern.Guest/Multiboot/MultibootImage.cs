using System.Buffers.Binary;
using System.Text;
using Tern.Memory;

namespace Tern.Guest.Multiboot;

/// <summary>
/// Loads a Multiboot 1 kernel file (an exported Tern guest or any other) into a <see cref="GuestImage"/> that Tern's
/// own VMM can boot: the loaded segments as blobs, a minimal multiboot info structure (memory sizes and the boot
/// loader name) in the page after the highest segment, and one vCPU in 32-bit protected mode at the entry point with
/// EAX = 0x2BADB002 and EBX = the info's address. Both ELF32 files and the header's address fields (flag 16) are
/// understood. If the file is a Tern export, its workload and layout are recovered from the parameter block so the
/// reference model can check its memory.
/// </summary>
public static class MultibootImage
{
    private const string LoaderName = "tern";

    /// <summary>Parses and validates <paramref name="file"/>; throws <see cref="InvalidDataException"/> naming what is malformed.</summary>
    public static GuestImage Load(ReadOnlySpan<byte> file, ulong ramBytes)
    {
        if (ramBytes < 2UL << 20)
            throw new GuestConfigurationException($"{ramBytes} bytes of RAM is too little to boot a multiboot kernel (at least 2 MiB)");
        int header = FindHeader(file);
        uint flags = U32(file, header + 4);
        if ((flags & MultibootHeader.FlagVideoMode) != 0)
            throw new InvalidDataException("the multiboot header asks for a video mode (flag 2); Tern's guests have no display");
        uint unknownRequired = flags & 0xFFFF & ~(MultibootHeader.FlagPageAlignModules | MultibootHeader.FlagMemoryInfo);
        if (unknownRequired != 0)
            throw new InvalidDataException($"the multiboot header requires features Tern's loader does not provide (flags 0x{unknownRequired:x})");

        var (segments, entry) = (flags & MultibootHeader.FlagAddressFields) != 0
            ? AddressFieldSegments(file, header)
            : ElfSegments(file);
        CheckSegments(segments, entry, ramBytes);

        ulong top = segments.Max(s => s.Address + s.MemoryBytes);
        ulong info = (top + PageSize.OffsetMask) & ~PageSize.OffsetMask;
        if (info + PageSize.Bytes > ramBytes)
            throw new InvalidDataException($"no room after the kernel (which ends at 0x{top:x}) for the multiboot info in {ByteSize.Format(ramBytes)} of RAM");

        var blobs = segments
            .Where(s => s.FileBytes.Length > 0)
            .Select((s, n) => new GuestBlob($"segment[{n}]", new GuestAddress(s.Address), s.FileBytes))
            .ToList();
        blobs.Add(new GuestBlob("multiboot-info", new GuestAddress(info), InfoPage(info, ramBytes)));

        var (workload, layout) = RecoverTernGuest(blobs);
        if (layout is not null && layout.RamBytes > ramBytes)
            throw new InvalidDataException(
                $"this Tern guest ({workload}) was built for {ByteSize.Format(layout.RamBytes)} of RAM; load it with at least that much, not {ByteSize.Format(ramBytes)}");
        var vcpu = EntryStates.Multiboot(entry, (uint)info, needsLapicTimer: workload is null || workload.For(0).Kind is WorkloadKind.Idle or WorkloadKind.Fill);
        return new GuestImage(ramBytes, blobs, [vcpu], workload, layout, layout is null ? null : new GuestAddress(entry));
    }

    private readonly record struct Segment(ulong Address, ulong MemoryBytes, byte[] FileBytes);

    private static int FindHeader(ReadOnlySpan<byte> file)
    {
        int badChecksum = -1;
        int limit = Math.Min(file.Length, MultibootHeader.SearchBytes) - 12;
        for (int offset = 0; offset <= limit; offset += 4)
        {
            if (U32(file, offset) != MultibootHeader.Magic) continue;
            uint sum = unchecked(MultibootHeader.Magic + U32(file, offset + 4) + U32(file, offset + 8));
            if (sum == 0) return offset;
            if (badChecksum < 0) badChecksum = offset;
        }
        if (badChecksum >= 0)
            throw new InvalidDataException($"the multiboot header at file offset 0x{badChecksum:x} has a bad checksum (magic + flags + checksum must be 0 mod 2^32)");
        throw new InvalidDataException($"no multiboot header (magic 0x{MultibootHeader.Magic:x}) in the first 8 KiB of the file ({file.Length} bytes): not a multiboot kernel");
    }

    /// <summary>Flag 16: header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr follow the checksum.</summary>
    private static (List<Segment>, uint) AddressFieldSegments(ReadOnlySpan<byte> file, int header)
    {
        if (header + 32 > file.Length)
            throw new InvalidDataException("the multiboot header sets flag 16 but the file ends before its address fields");
        uint headerAddr = U32(file, header + 12), loadAddr = U32(file, header + 16), loadEnd = U32(file, header + 20);
        uint bssEnd = U32(file, header + 24), entry = U32(file, header + 28);
        if (loadAddr > headerAddr)
            throw new InvalidDataException($"multiboot load_addr 0x{loadAddr:x} is above header_addr 0x{headerAddr:x}");
        long fileStart = header - (long)(headerAddr - loadAddr);
        if (fileStart < 0)
            throw new InvalidDataException($"multiboot header_addr - load_addr (0x{headerAddr - loadAddr:x}) reaches before the start of the file");
        ulong length = loadEnd == 0 ? (ulong)(file.Length - fileStart) : loadEnd >= loadAddr
            ? loadEnd - (ulong)loadAddr
            : throw new InvalidDataException($"multiboot load_end_addr 0x{loadEnd:x} is below load_addr 0x{loadAddr:x}");
        if ((ulong)fileStart + length > (ulong)file.Length)
            throw new InvalidDataException($"multiboot load range [0x{loadAddr:x}, 0x{loadAddr + length:x}) needs {length} bytes from file offset {fileStart}, past the end of the file");
        ulong memory = length;
        if (bssEnd != 0)
        {
            if (bssEnd < loadAddr + length)
                throw new InvalidDataException($"multiboot bss_end_addr 0x{bssEnd:x} is below the end of the loaded data 0x{loadAddr + length:x}");
            memory = bssEnd - (ulong)loadAddr;
        }
        var bytes = file.Slice((int)fileStart, (int)length).ToArray();
        return ([new Segment(loadAddr, memory, bytes)], entry);
    }

    private static (List<Segment>, uint) ElfSegments(ReadOnlySpan<byte> file)
    {
        if (file.Length < 52 || file[0] != 0x7F || file[1] != 'E' || file[2] != 'L' || file[3] != 'F')
            throw new InvalidDataException("the file is not ELF and its multiboot header has no address fields (flag 16): nothing says where to load it");
        if (file[4] == 2)
            throw new InvalidDataException("a 64-bit ELF file: multiboot loads 32-bit ELF images (ELFCLASS32, EM_386), as QEMU's -kernel does");
        if (file[4] != 1 || file[5] != 1)
            throw new InvalidDataException($"unsupported ELF class {file[4]} / data encoding {file[5]}: expected ELFCLASS32, little-endian");
        ushort machine = U16(file, 18);
        if (machine != 3)
            throw new InvalidDataException($"ELF machine {machine} is not EM_386 (3)");
        uint entry = U32(file, 24);
        uint phoff = U32(file, 28);
        ushort phentsize = U16(file, 42), phnum = U16(file, 44);
        if (phnum == 0) throw new InvalidDataException("the ELF file has no program headers");
        if (phentsize < 32 || phoff > (uint)file.Length || (ulong)phoff + (ulong)phnum * phentsize > (ulong)file.Length)
            throw new InvalidDataException($"the ELF program headers ({phnum} of {phentsize} bytes at offset {phoff}) do not fit in the {file.Length}-byte file");

        var segments = new List<Segment>();
        for (int n = 0; n < phnum; n++)
        {
            int ph = (int)phoff + n * phentsize;
            if (U32(file, ph) != 1) continue; // only PT_LOAD
            uint offset = U32(file, ph + 4), paddr = U32(file, ph + 12), filesz = U32(file, ph + 16), memsz = U32(file, ph + 20);
            if ((ulong)offset + filesz > (ulong)file.Length)
                throw new InvalidDataException($"ELF segment {n} wants {filesz} bytes at file offset {offset}, past the end of the {file.Length}-byte file");
            if (filesz > memsz)
                throw new InvalidDataException($"ELF segment {n} has more file bytes ({filesz}) than memory bytes ({memsz})");
            segments.Add(new Segment(paddr, memsz, file.Slice((int)offset, (int)filesz).ToArray()));
        }
        if (segments.Count == 0) throw new InvalidDataException("the ELF file has no PT_LOAD segment");
        return (segments, entry);
    }

    private static void CheckSegments(List<Segment> segments, uint entry, ulong ramBytes)
    {
        for (int n = 0; n < segments.Count; n++)
        {
            var s = segments[n];
            if (s.Address + s.MemoryBytes > ramBytes)
                throw new InvalidDataException($"segment {n} [0x{s.Address:x}, 0x{s.Address + s.MemoryBytes:x}) lies outside the guest's {ByteSize.Format(ramBytes)} of RAM");
            for (int m = 0; m < n; m++)
            {
                var o = segments[m];
                if (s.Address < o.Address + o.MemoryBytes && o.Address < s.Address + s.MemoryBytes)
                    throw new InvalidDataException($"segments {m} and {n} overlap at 0x{Math.Max(s.Address, o.Address):x}");
            }
        }
        if (!segments.Any(s => entry >= s.Address && entry < s.Address + s.MemoryBytes))
            throw new InvalidDataException($"the entry point 0x{entry:x} is not inside any loaded segment");
    }

    /// <summary>flags (memory, boot loader name), mem_lower = 640 KiB, mem_upper = RAM above 1 MiB (below 4 GiB), the name after the structure.</summary>
    private static byte[] InfoPage(ulong infoAddress, ulong ramBytes)
    {
        var page = new byte[PageSize.Bytes];
        var p = page.AsSpan();
        ulong upperKib = Math.Min(ramBytes, 0xFFFF_F000UL) / 1024 - 1024;
        BinaryPrimitives.WriteUInt32LittleEndian(p, MultibootHeader.InfoMemory | MultibootHeader.InfoBootLoaderName);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 640);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)upperKib);
        BinaryPrimitives.WriteUInt32LittleEndian(p[64..], (uint)(infoAddress + MultibootHeader.InfoBytes));
        Encoding.ASCII.GetBytes(LoaderName).CopyTo(p[MultibootHeader.InfoBytes..]);
        return page;
    }

    /// <summary>A Tern export carries its spec, vCPU count and RAM size in the parameter block at 1 MiB.</summary>
    private static (GuestWorkload?, GuestLayout?) RecoverTernGuest(List<GuestBlob> blobs)
    {
        var holder = blobs.FirstOrDefault(b => b.Address.Value <= GuestLayout.SystemBase
            && b.Address.Value + (ulong)b.Bytes.Length >= GuestLayout.SystemBase + PageSize.Bytes);
        if (holder is null) return (null, null);
        var p = holder.Bytes.Span.Slice((int)(GuestLayout.SystemBase - holder.Address.Value), PageSize.Bytes);
        if (BinaryPrimitives.ReadUInt64LittleEndian(p) != ParameterBlock.MagicValue) return (null, null);
        ulong specLength = BinaryPrimitives.ReadUInt64LittleEndian(p[ParameterBlock.SpecLength..]);
        if (specLength > ParameterBlock.SpecCapacity)
            throw new InvalidDataException($"the Tern parameter block's spec length {specLength} is larger than its {ParameterBlock.SpecCapacity}-byte field");
        string text = Encoding.ASCII.GetString(p.Slice(ParameterBlock.Spec, (int)specLength));
        try
        {
            var spec = GuestWorkload.Parse(text);
            var layout = GuestLayout.Compute(spec,
                BinaryPrimitives.ReadUInt64LittleEndian(p[ParameterBlock.RamBytes..]),
                (int)BinaryPrimitives.ReadUInt64LittleEndian(p[ParameterBlock.VcpuCount..]));
            bool matches = layout.WorkingSet.Start.Value == BinaryPrimitives.ReadUInt64LittleEndian(p[ParameterBlock.WorkingSetBase..])
                && layout.WorkingSet.Length == BinaryPrimitives.ReadUInt64LittleEndian(p[ParameterBlock.WorkingSetBytes..]);
            if (!matches)
                throw new InvalidDataException($"the Tern parameter block's working set does not match the layout of '{spec}': the file was made by a different Tern version");
            return (spec, layout);
        }
        catch (Exception e) when (e is FormatException or GuestConfigurationException)
        {
            throw new InvalidDataException($"the Tern parameter block does not describe a valid guest: {e.Message}", e);
        }
    }

    private static uint U32(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);

    private static ushort U16(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]);
}
