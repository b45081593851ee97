using System.Buffers.Binary;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Xunit;

namespace Tern.Machine.Tests.Guest;

public class MultibootExportTests
{
    private const ulong MiB = 1UL << 20;

    private static uint U32(byte[] b, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset));

    private static ushort U16(byte[] b, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(offset));

    [Fact]
    public void Export_is_a_32_bit_elf_with_a_valid_multiboot_header_in_the_first_8_KiB()
    {
        byte[] file = MultibootExporter.Export(WorkloadSpec.Parse("seq:ws=16M"), 64 * MiB, 2_400_000);
        Assert.Equal([0x7F, (byte)'E', (byte)'L', (byte)'F', 1, 1, 1], file[..7]);
        Assert.Equal(2, U16(file, 16)); // ET_EXEC
        Assert.Equal(3, U16(file, 18)); // EM_386
        Assert.Equal(1, U16(file, 44)); // one program header

        int header = Enumerable.Range(0, 8192 / 4).Select(i => i * 4).First(o => U32(file, o) == MultibootHeader.Magic);
        Assert.True(header + 12 <= 8192);
        Assert.Equal(0u, unchecked(U32(file, header) + U32(file, header + 4) + U32(file, header + 8)));
        Assert.Equal(MultibootHeader.FlagMemoryInfo, U32(file, header + 4));

        int ph = (int)U32(file, 28);
        Assert.Equal(1u, U32(file, ph)); // PT_LOAD
        Assert.Equal((uint)GuestLayout.SystemBase, U32(file, ph + 12)); // paddr
        Assert.Equal(U32(file, ph + 16), U32(file, ph + 20)); // filesz == memsz: no gaps for QEMU to fill
        Assert.Equal(file.Length, (int)(U32(file, ph + 4) + U32(file, ph + 16)));
        uint entry = U32(file, 24);
        Assert.InRange(entry, (uint)GuestLayout.SystemBase, (uint)GuestLayout.SystemBase + U32(file, ph + 20));
    }

    [Theory]
    [InlineData("idle")]
    [InlineData("stride")]
    [InlineData("hotcold:ws=16M,hot=2M,rate=10,seed=3")]
    public void Loading_an_export_gives_back_the_blobs_the_workload_and_the_layout(string spec)
    {
        var built = GuestImageBuilder.Build(WorkloadSpec.Parse(spec), 64 * MiB, new GuestBuildOptions(1, 2_400_000));
        byte[] file = MultibootExporter.Export(built);
        var loaded = MultibootImage.Load(file, 64 * MiB);

        Assert.Equal(built.Workload, loaded.Workload);
        Assert.Equal(built.Layout!.WorkingSet, loaded.Layout!.WorkingSet);
        Assert.Equal(built.Layout.Vcpus[0].ControlPage, loaded.Layout.Vcpus[0].ControlPage);
        Assert.Equal(built.MultibootEntry, loaded.MultibootEntry);

        // Every byte Tern's builder places is in the loaded image at the same address.
        byte[] a = GuestFixtures.Ram(built), b = GuestFixtures.Ram(loaded);
        var systemArea = (int)GuestLayout.SystemBase..(int)built.Layout.BootInfo.Value;
        Assert.Equal(a[systemArea], b[systemArea]);

        var state = Assert.Single(loaded.Vcpus);
        Assert.Equal(EntryMode.ProtectedMode32, state.Mode);
        Assert.Equal(0x2BADB002UL, state.Registers.Rax);
        Assert.Equal(built.Layout.BootInfo.Value, state.Registers.Rbx);
        Assert.Equal(built.MultibootEntry!.Value.Value, state.Registers.Rip);
        Assert.False(state.Cs.L);
        Assert.True(state.Cs.Db);
        Assert.Equal(0x11UL, state.Cr0 & 0x8000_0011);
        Assert.Equal(spec == "idle", state.NeedsLapicTimer);

        // The minimal multiboot info: memory sizes and the loader's name.
        var info = b.AsSpan((int)built.Layout.BootInfo.Value);
        Assert.Equal(MultibootHeader.InfoMemory | MultibootHeader.InfoBootLoaderName, BinaryPrimitives.ReadUInt32LittleEndian(info));
        Assert.Equal(640u, BinaryPrimitives.ReadUInt32LittleEndian(info[4..]));
        Assert.Equal(63u * 1024, BinaryPrimitives.ReadUInt32LittleEndian(info[8..]));
        uint name = BinaryPrimitives.ReadUInt32LittleEndian(info[64..]);
        Assert.Equal("tern"u8.ToArray(), b.AsSpan((int)name, 4).ToArray());
    }

    [Fact]
    public void Export_refuses_more_than_one_vcpu_and_more_than_2_GiB()
    {
        var two = GuestImageBuilder.Build(WorkloadSpec.Parse("seq:ws=16M"), 64 * MiB, new GuestBuildOptions(2, 2_400_000));
        Assert.Contains("INIT-SIPI", Assert.Throws<GuestConfigurationException>(() => MultibootExporter.Export(two)).Message);
        Assert.Contains("at most 2G", Assert.Throws<GuestConfigurationException>(
            () => MultibootExporter.Export(WorkloadSpec.Parse("seq:ws=16M"), 4096 * MiB, 2_400_000)).Message);
    }

    [Fact]
    public void The_boot_message_names_the_ram_the_image_was_built_for()
    {
        var image = GuestImageBuilder.Build(WorkloadSpec.Parse("seq:ws=100M"), 256 * MiB, new GuestBuildOptions(1, 2_400_000));
        var p = GuestFixtures.Blob(image, "parameters").Bytes.Span;
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(p[ParameterBlock.BootMessageLength..]);
        string message = System.Text.Encoding.ASCII.GetString(p.Slice(ParameterBlock.BootMessage, length));
        Assert.Equal("tern-guest: needs at least 102 MiB of RAM; boot it with -m 256M\n", message);
    }
}
