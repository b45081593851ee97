using System.Buffers.Binary;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Xunit;

namespace Tern.Machine.Tests.Guest;

public class MultibootLoaderRejectionTests
{
    private const ulong MiB = 1UL << 20;
    private const int HeaderOffset = 0x54; // right after the ELF header and the one program header

    private static byte[] Export() => MultibootExporter.Export(WorkloadSpec.Parse("seq:ws=16M"), 64 * MiB, 2_400_000);

    private static uint U32(byte[] b, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset));

    private static void Put(byte[] b, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offset), value);

    private static string Rejected(byte[] file, ulong ram = 64 * MiB) =>
        Assert.Throws<InvalidDataException>(() => MultibootImage.Load(file, ram)).Message;

    [Fact]
    public void A_file_without_a_header_in_the_first_8_KiB_is_not_multiboot()
    {
        Assert.Contains("no multiboot header (magic 0x1badb002) in the first 8 KiB", Rejected(new byte[20_000]));
        Assert.Contains("no multiboot header", Rejected([1, 2, 3]));
        // A header beyond 8 KiB does not count.
        var late = new byte[16_384];
        Put(late, 9000, MultibootHeader.Magic);
        Put(late, 9008, unchecked(0u - MultibootHeader.Magic));
        Assert.Contains("no multiboot header", Rejected(late));
    }

    [Fact]
    public void A_bad_checksum_is_reported_with_its_offset()
    {
        var file = Export();
        Put(file, HeaderOffset + 8, 12345);
        Assert.Contains("the multiboot header at file offset 0x54 has a bad checksum", Rejected(file));
    }

    [Fact]
    public void A_video_mode_request_or_unknown_required_flags_are_refused()
    {
        var file = Export();
        Put(file, HeaderOffset + 4, MultibootHeader.FlagVideoMode);
        Put(file, HeaderOffset + 8, unchecked(0u - MultibootHeader.Magic - MultibootHeader.FlagVideoMode));
        Assert.Contains("asks for a video mode", Rejected(file));
        Put(file, HeaderOffset + 4, 0x100);
        Put(file, HeaderOffset + 8, unchecked(0u - MultibootHeader.Magic - 0x100));
        Assert.Contains("requires features Tern's loader does not provide (flags 0x100)", Rejected(file));
    }

    [Fact]
    public void A_64_bit_elf_is_refused_as_qemu_does()
    {
        var file = Export();
        file[4] = 2;
        Assert.Contains("a 64-bit ELF file", Rejected(file));
    }

    [Fact]
    public void Segments_must_lie_inside_ram_and_inside_the_file()
    {
        Assert.Contains("too little", Assert.Throws<GuestConfigurationException>(() => MultibootImage.Load(Export(), 1 * MiB)).Message);

        var moved = Export();
        Put(moved, 0x34 + 12, 0x7FF0_0000); // p_paddr far beyond 64 MiB
        Assert.Contains("segment 0 [0x7ff00000, ", Rejected(moved));
        Assert.Contains("lies outside the guest's 64 MiB of RAM", Rejected(moved));

        var truncated = Export()[..0x2000];
        Assert.Contains("past the end of the", Rejected(truncated));

        var bigger = Export();
        Put(bigger, 0x34 + 20, U32(bigger, 0x34 + 16) - 1); // memsz < filesz
        Assert.Contains("more file bytes", Rejected(bigger));
    }

    [Fact]
    public void The_entry_point_must_be_inside_a_loaded_segment()
    {
        var file = Export();
        Put(file, 24, 0x50);
        Assert.Contains("the entry point 0x50 is not inside any loaded segment", Rejected(file));
    }

    [Fact]
    public void Broken_program_headers_are_refused()
    {
        var file = Export();
        Put(file, 28, 0xFFFF_FF00); // e_phoff
        Assert.Contains("do not fit in the", Rejected(file));
        var none = Export();
        BinaryPrimitives.WriteUInt16LittleEndian(none.AsSpan(44), 0);
        Assert.Contains("has no program headers", Rejected(none));
        var notLoad = Export();
        Put(notLoad, 0x34, 4); // PT_NOTE
        Assert.Contains("no PT_LOAD segment", Rejected(notLoad));
    }

    [Fact]
    public void Address_fields_load_a_flat_image()
    {
        // A flat kernel: header at 0, load it at 1 MiB, 64 bytes of data, 4 KiB of bss, entry 12 bytes in.
        var file = new byte[64];
        uint flags = MultibootHeader.FlagAddressFields;
        Put(file, 0, MultibootHeader.Magic);
        Put(file, 4, flags);
        Put(file, 8, unchecked(0u - MultibootHeader.Magic - flags));
        Put(file, 12, 0x10_0000); // header_addr
        Put(file, 16, 0x10_0000); // load_addr
        Put(file, 20, 0x10_0040); // load_end_addr
        Put(file, 24, 0x10_1040); // bss_end_addr
        Put(file, 28, 0x10_0020); // entry_addr
        file[0x20] = 0xF4;
        var image = MultibootImage.Load(file, 8 * MiB);
        var segment = image.Blobs[0];
        Assert.Equal(0x10_0000UL, segment.Address.Value);
        Assert.Equal(file, segment.Bytes.ToArray());
        Assert.Equal(0x10_0020UL, image.Vcpus[0].Registers.Rip);
        Assert.Equal(0x10_2000UL, image.Vcpus[0].Registers.Rbx); // info page after the bss
        Assert.Null(image.Workload);
        Assert.True(image.NeedsLapicTimer);

        Put(file, 16, 0x10_0010); // load_addr above header_addr
        Assert.Contains("is above header_addr", Rejected(file));
        Put(file, 16, 0x10_0000);
        Put(file, 20, 0x10_1000); // load_end beyond the file
        Assert.Contains("past the end of the file", Rejected(file));
        Put(file, 20, 0x10_0040);
        Put(file, 24, 0x10_0020); // bss_end inside the data
        Assert.Contains("bss_end_addr 0x100020 is below the end of the loaded data", Rejected(file));
    }

    [Fact]
    public void A_tern_export_needs_the_ram_it_was_built_for()
    {
        Assert.Contains("was built for 64 MiB of RAM; load it with at least that much, not 32 MiB", Rejected(Export(), 32 * MiB));
        Assert.NotNull(MultibootImage.Load(Export(), 128 * MiB).Layout);
    }

    [Fact]
    public void A_corrupt_tern_parameter_block_is_reported()
    {
        var file = Export();
        int spec = 0x1000 + ParameterBlock.Spec;
        "fast"u8.CopyTo(file.AsSpan(spec));
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(0x1000 + ParameterBlock.SpecLength), 4);
        Assert.Contains("the Tern parameter block does not describe a valid guest: workload \"fast\"", Rejected(file));
    }
}
