using System.Diagnostics;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>Checks under QEMU that rate= caps how fast the guest writes.</summary>
[Collection(QemuCollection.Name)]
public class QemuRateCapTests
{
    [Theory]
    [InlineData("seq:ws=16M,rate=20", 20 * 256)]
    [InlineData("stride:rate=5", 5 * 1024)]
    public void The_guest_never_writes_faster_than_its_cap(string text, double writesPerSecond)
    {
        QemuGuest.SkipIfUnavailable();
        var spec = WorkloadSpec.Parse(text);
        var clock = Stopwatch.StartNew(); // starts before QEMU does: an upper bound on the guest's running time
        using var qemu = QemuGuest.Boot(spec, out var image);
        Thread.Sleep(1500);
        ulong counter = qemu.ReadPhysical(image.Layout!.Vcpus[0].ControlPage.Value + (ulong)ControlPage.Counter, 1)[0];
        double ceiling = writesPerSecond * (clock.Elapsed.TotalSeconds + 0.001) + GuestImageBuilder.ChunkWrites(spec);
        Assert.InRange(counter, 1UL, (ulong)(ceiling * 1.02));
        Assert.Empty(qemu.PanicBytes);
    }
}
