using System.Buffers.Binary;
using System.Diagnostics;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>Makes a real guest fault and checks the panic report: the port byte and the control page's record.</summary>
[Collection(QemuCollection.Name)]
public class QemuPanicTests
{
    private const ulong Ram = 64UL << 20;

    [Fact]
    public void A_page_fault_is_recorded_in_the_control_page_and_reported_on_the_panic_port()
    {
        QemuGuest.SkipIfUnavailable();
        var image = GuestImageBuilder.Build(WorkloadSpec.Parse("seq:ws=16M"), Ram, new GuestBuildOptions(1, TscFrequency.HostKhzOrFallback()));
        var layout = image.Layout!;
        byte[] file = MultibootExporter.Export(image);
        // Unmap the first 2 MiB of the working set: the first write faults.
        ulong pde = layout.FirstPageDirectory.Value + layout.WorkingSet.Start.Value / GuestLayout.LargePageBytes * 8;
        int offset = (int)(0x1000 + pde - GuestLayout.SystemBase);
        Assert.NotEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(offset)));
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(offset), 0);

        using var qemu = new QemuGuest(file, "64M");
        qemu.WaitForSerial(GuestImageBuilder.Banner(image.Workload!, 1), TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        while (qemu.PanicBytes.Length == 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(20);
        Assert.Equal([14], qemu.PanicBytes);

        ulong[] words = qemu.ReadPhysical(layout.Vcpus[0].ControlPage.Value, 0x140 / 8);
        var page = new byte[4096];
        for (int i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(page.AsSpan(i * 8), words[i]);
        var snapshot = ControlPage.Read(page);
        Assert.Equal(VcpuRunState.Panicked, snapshot.State);
        Assert.Equal(0UL, snapshot.Counter);
        var panic = Assert.IsType<GuestPanic>(snapshot.Panic);
        Assert.Equal(14, panic.Vector);
        Assert.Equal(layout.WorkingSet.Start.Value, panic.Cr2);
        Assert.Equal(0x6UL, panic.ErrorCode); // not present, write, user
        Assert.Equal(0x23UL, panic.Cs);
        var code = GuestFixtures.Blob(image, "code");
        Assert.InRange(panic.Rip, code.Address.Value, code.Address.Value + (ulong)code.Bytes.Length);
        Assert.StartsWith($"guest vCPU 0 took #PF (vector 14) at rip 0x{panic.Rip:x} cr2 0x{layout.WorkingSet.Start.Value:x}", panic.ToString());
    }
}
