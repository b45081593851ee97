using System.Buffers.Binary;
using Tern.Guest;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>Decodes the GDT, TSSs, I/O bitmap and IDT from the image bytes.</summary>
public class SystemTablesTests
{
    private static ulong U64(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(b[offset..]);

    [Fact]
    public void Gdt_holds_flat_kernel_and_user_segments_and_one_tss_descriptor_per_vcpu()
    {
        var image = GuestFixtures.Build("seq:ws=16M", vcpus: 3);
        var layout = image.Layout!;
        var gdt = GuestFixtures.Blob(image, "gdt").Bytes.Span;
        Assert.Equal(0UL, U64(gdt, 0));
        Assert.Equal(0x00AF9B000000FFFFUL, U64(gdt, 0x08)); // kernel code: L, DPL 0
        Assert.Equal(0x00CF93000000FFFFUL, U64(gdt, 0x10)); // kernel data
        Assert.Equal(0x00CFF3000000FFFFUL, U64(gdt, 0x18)); // user data: DPL 3
        Assert.Equal(0x00AFFB000000FFFFUL, U64(gdt, 0x20)); // user code: L, DPL 3
        foreach (var v in layout.Vcpus)
        {
            ulong low = U64(gdt, v.TssSelector), high = U64(gdt, v.TssSelector + 8);
            ulong tssBase = ((low >> 16) & 0xFF_FFFF) | (((low >> 56) & 0xFF) << 24) | (high << 32);
            uint limit = (uint)((low & 0xFFFF) | (((low >> 48) & 0xF) << 16));
            Assert.Equal(v.Tss.Value, tssBase);
            Assert.Equal(v.TssLimit, limit);
            Assert.Equal(0x89UL, (low >> 40) & 0xFF); // present, DPL 0, available 64-bit TSS
        }
        var vcpu = image.Vcpus[2];
        Assert.Equal(layout.Gdt.Value, vcpu.Gdt.Base);
        Assert.Equal(0x28 + 3 * 16 - 1, vcpu.Gdt.Limit);
    }

    [Fact]
    public void Each_tss_points_rsp0_and_ist1_at_its_kernel_stack_and_the_shared_io_bitmap()
    {
        var image = GuestFixtures.Build("random:ws=16M", vcpus: 4);
        var layout = image.Layout!;
        byte[] ram = GuestFixtures.Ram(image);
        foreach (var v in layout.Vcpus)
        {
            var tss = ram.AsSpan((int)v.Tss.Value, 104);
            Assert.Equal(v.KernelStackTop.Value, BinaryPrimitives.ReadUInt64LittleEndian(tss[4..]));
            Assert.Equal(v.KernelStackTop.Value, BinaryPrimitives.ReadUInt64LittleEndian(tss[36..]));
            ushort ioMapBase = BinaryPrimitives.ReadUInt16LittleEndian(tss[102..]);
            Assert.Equal(layout.IoBitmap.Value, v.Tss.Value + ioMapBase);
            // The limit covers the bitmap up to and including its terminating 0xFF byte.
            Assert.Equal(0xFF, ram[v.Tss.Value + v.TssLimit]);
            // The kernel stack page starts with the control page address and vCPU index for the exception handler.
            Assert.Equal(v.ControlPage.Value, BinaryPrimitives.ReadUInt64LittleEndian(ram.AsSpan((int)v.KernelStack.Value)));
            Assert.Equal((ulong)v.Index, BinaryPrimitives.ReadUInt64LittleEndian(ram.AsSpan((int)v.KernelStack.Value + 8)));
        }
    }

    [Fact]
    public void Io_bitmap_grants_cpl3_exactly_the_serial_heartbeat_and_panic_ports()
    {
        var image = GuestFixtures.Build("seq:ws=16M");
        var bitmap = GuestFixtures.Blob(image, "io-bitmap").Bytes.Span;
        var allowed = new List<int>();
        for (int port = 0; port < bitmap.Length * 8; port++)
            if ((bitmap[port >> 3] & (1 << (port & 7))) == 0) allowed.Add(port);
        Assert.Equal([GuestPorts.SerialData, GuestPorts.SerialLineStatus, GuestPorts.Heartbeat, GuestPorts.Panic], allowed);
        Assert.Equal(0xFF, bitmap[^1]);
    }

    [Fact]
    public void Idt_sends_exceptions_to_stubs_on_ist1_and_the_timer_to_its_handler()
    {
        var image = GuestFixtures.Build("idle");
        var layout = image.Layout!;
        var idt = GuestFixtures.Blob(image, "idt").Bytes.Span;
        var code = GuestFixtures.Blob(image, "code");
        var handlers = new HashSet<ulong>();
        foreach (int vector in Enumerable.Range(0, 32).Append(0x20).Append(0xFF))
        {
            var gate = idt.Slice(vector * 16, 16);
            ulong target = BinaryPrimitives.ReadUInt16LittleEndian(gate)
                | ((ulong)BinaryPrimitives.ReadUInt16LittleEndian(gate[6..]) << 16)
                | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(gate[8..]) << 32);
            Assert.Equal(0x08, BinaryPrimitives.ReadUInt16LittleEndian(gate[2..]));
            Assert.Equal(0x8E, gate[5]); // present, DPL 0, 64-bit interrupt gate
            Assert.Equal(vector < 32 ? 1 : 0, gate[4]);
            Assert.InRange(target, code.Address.Value, code.Address.Value + (ulong)code.Bytes.Length - 1);
            Assert.True(handlers.Add(target), $"vector {vector} shares a handler");
        }
        Assert.Equal(0, idt[0x21 * 16 + 5]); // everything else is not present
        Assert.Equal(layout.Idt.Value, image.Vcpus[0].Idt.Base);
        Assert.Equal(4095, image.Vcpus[0].Idt.Limit);
    }

    [Fact]
    public void Parameter_block_carries_the_tsc_frequency_banner_and_spec()
    {
        var image = GuestImageBuilder.Build(WorkloadSpec.Parse("seq:ws=16M,rate=100"), 64UL << 20, new GuestBuildOptions(2, 3_000_000));
        var p = GuestFixtures.Blob(image, "parameters").Bytes.Span;
        Assert.Equal(ParameterBlock.MagicValue, U64(p, ParameterBlock.Magic));
        Assert.Equal(3_000_000UL, U64(p, ParameterBlock.TscKhz));
        Assert.Equal(2UL, U64(p, ParameterBlock.VcpuCount));
        Assert.Equal(100UL * 256, U64(p, ParameterBlock.RateWritesPerSecond));
        Assert.Equal(25UL, U64(p, ParameterBlock.ChunkWrites));
        Assert.Equal(1_000_000UL, U64(p, ParameterBlock.ApicTimerInitialCount));
        string banner = System.Text.Encoding.ASCII.GetString(p.Slice(ParameterBlock.Banner, (int)U64(p, ParameterBlock.BannerLength)));
        Assert.Equal("tern-guest: seq:ws=16M,rate=100 vcpus=2\n", banner);
        string spec = System.Text.Encoding.ASCII.GetString(p.Slice(ParameterBlock.Spec, (int)U64(p, ParameterBlock.SpecLength)));
        Assert.Equal("seq:ws=16M,rate=100", spec);
    }

    [Fact]
    public void Stride_rate_counts_four_writes_per_page()
    {
        Assert.Equal(1024UL, GuestImageBuilder.RateWritesPerSecond(WorkloadSpec.Parse("stride:rate=1")));
        Assert.Equal(256UL, GuestImageBuilder.RateWritesPerSecond(WorkloadSpec.Parse("seq:ws=16M,rate=1")));
        Assert.Equal(0UL, GuestImageBuilder.RateWritesPerSecond(WorkloadSpec.Parse("seq:ws=16M")));
        Assert.Equal(256UL, GuestImageBuilder.ChunkWrites(WorkloadSpec.Parse("seq:ws=16M")));
        Assert.Equal(1UL, GuestImageBuilder.ChunkWrites(WorkloadSpec.Parse("seq:ws=16M,rate=0.001")));
    }
}
