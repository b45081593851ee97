using Tern.Guest;
using Tern.Guest.Multiboot;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>
/// compute and content=mixed in the exported image under QEMU 7.2/KVM: the same code heartbeats, counts, and leaves
/// memory exactly as the model says; mixed pages compress 2-3x with zstd.
/// </summary>
[Collection(QemuCollection.Name)]
public class QemuComputeAndMixedContentTests(ITestOutputHelper output)
{
    private const ulong Ram = 64UL << 20;

    [Theory]
    [InlineData("compute")]
    [InlineData("seq:ws=16M,content=mixed")]
    [InlineData("random:ws=16M,content=mixed,seed=5")]
    [InlineData("hotcold:ws=16M,hot=2M,content=mixed")]
    [InlineData("stride:ws=4M,content=mixed")]
    public void Runs_heartbeats_and_matches_the_model(string text)
    {
        QemuGuest.SkipIfUnavailable();
        var spec = GuestWorkload.Parse(text);
        using var qemu = QemuGuest.Boot(spec, out var image);
        var layout = image.Layout!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (qemu.HeartbeatBytes < 200 && DateTime.UtcNow < deadline) Thread.Sleep(50);
        qemu.Pause();
        Assert.True(qemu.HeartbeatBytes >= 200, $"{qemu.HeartbeatBytes} heartbeats");
        Assert.Empty(qemu.PanicBytes);
        byte[] memory = qemu.DumpMemory(Ram);

        var model = new WorkloadModel(layout);
        ulong[] counters = model.ReadCounters(memory);
        Assert.True(counters[0] > 1000, $"only {counters[0]} iterations or writes");
        var report = model.Verify(memory, counters);
        Assert.True(report.IsExact, report.ToString());
        if (spec.For(0).Content == PageContent.Mixed && counters[0] > layout.WorkingSet.PageCount * 4 * 2)
        {
            double ratio = WorkloadModelMixedContentTests.ZstdRatio(memory, layout.WorkingSet);
            output.WriteLine($"{text}: {counters[0]} writes; zstd level 1 ratio {ratio:0.00}x");
            if (spec.For(0).Kind is WorkloadKind.Seq or WorkloadKind.Stride) Assert.InRange(ratio, 2.0, 3.0);
        }
    }
}
