using Tern.Guest;
using Tern.Memory;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>A simulated guest runs one thread per vCPU over shared RAM and a shared dirty bitmap.</summary>
public class WorkloadModelConcurrencyTests
{
    [Fact]
    public void Vcpu_threads_sharing_ram_and_a_dirty_bitmap_produce_exact_memory_and_every_dirty_bit()
    {
        // 3 pages per vCPU: every bitmap word is shared by several vCPUs.
        var image = GuestFixtures.Build("random:ws=96K", vcpus: 8);
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        var dirty = new ulong[image.RamBytes / PageSize.Bytes / 64];
        const ulong writes = 200_000;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, v =>
        {
            for (ulong from = 0; from < writes; from += 1000)
                model.Apply(ram, dirty, v, from, from + 1000);
        });

        ulong[] counters = model.ReadCounters(ram);
        Assert.All(counters, c => Assert.Equal(writes, c));
        var report = model.Verify(ram, counters);
        Assert.True(report.IsExact, report.ToString());
        foreach (var page in model.ExpectedWorkingSet(counters))
            Assert.True((dirty[page.Value / 64] & (1UL << (int)(page.Value % 64))) != 0, $"{page} written but not marked dirty");
    }
}
