using Tern.Guest;
using Tern.Guest.Multiboot;
using Tern.Memory;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>fill under QEMU/KVM from the multiboot export: one pass exactly as the model says, then a rest that heartbeats.</summary>
[Collection(QemuCollection.Name)]
public class QemuFillTests
{
    private const ulong Ram = 64UL << 20;

    [Theory]
    [InlineData("fill:ws=16M")]
    [InlineData("fill:ws=16M,content=mixed")]
    public void Fills_once_matches_the_model_and_rests_heartbeating(string text)
    {
        QemuGuest.SkipIfUnavailable();
        var spec = WorkloadSpec.Parse(text);
        using var qemu = QemuGuest.Boot(spec, out var image);
        var layout = image.Layout!;
        Thread.Sleep(1500);
        qemu.Pause();
        byte[] memory = qemu.DumpMemory(Ram);

        var control = ControlPage.Read(memory.AsSpan((int)layout.Vcpus[0].ControlPage.Value, PageSize.Bytes));
        Assert.True(control.State == VcpuRunState.Running, control.ToString());
        var model = new WorkloadModel(layout);
        ulong[] counters = model.ReadCounters(memory);
        Assert.Equal(layout.WorkingSet.PageCount, counters[0]);
        var report = model.Verify(memory, counters);
        Assert.True(report.IsExact, report.ToString());
        // The rest's timer beats about once a millisecond; the pass itself takes a few milliseconds.
        Assert.True(control.Heartbeats > 300, $"{control.Heartbeats} heartbeats in 1.5 s");
    }
}
