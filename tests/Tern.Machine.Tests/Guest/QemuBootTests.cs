using System.Diagnostics;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>Boots each workload's multiboot export under QEMU with KVM and watches its ports.</summary>
[Collection(QemuCollection.Name)]
public class QemuBootTests
{
    private const ulong Ram = 64UL << 20;

    [Theory]
    [InlineData("idle")]
    [InlineData("stride")]
    [InlineData("seq:ws=16M")]
    [InlineData("random:ws=16M")]
    [InlineData("hotcold:ws=16M,hot=2M")]
    public void Boots_prints_the_banner_and_heartbeats_about_every_millisecond(string text)
    {
        QemuGuest.SkipIfUnavailable();
        var spec = WorkloadSpec.Parse(text);
        using var qemu = QemuGuest.Boot(spec, out var image);

        long before = qemu.HeartbeatBytes;
        var clock = Stopwatch.StartNew();
        Thread.Sleep(1500);
        long after = qemu.HeartbeatBytes;
        double perSecond = (after - before) / clock.Elapsed.TotalSeconds;
        ulong[] control = qemu.ReadPhysical(image.Layout!.Vcpus[0].ControlPage.Value, 5);

        Assert.Empty(qemu.PanicBytes);
        Assert.Equal(ControlPage.MagicValue, control[0]);
        Assert.Equal((ulong)VcpuRunState.Running, control[2]);
        Assert.True(control[3] > 0, "the counter has not moved");
        Assert.True(control[4] >= (ulong)after, $"the guest counted {control[4]} heartbeats but {after} reached the port");
        // About 1 kHz: never faster (one per millisecond of TSC); slower only when the shared host starves the vCPU.
        Assert.InRange(perSecond, 20, 1500);
        Assert.All(File.ReadAllBytes(qemu.HeartbeatPath), b => Assert.Equal(0, b)); // vCPU index 0
    }
}
