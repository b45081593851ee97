using Tern.Guest;
using Tern.Memory;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>The compute workload, and guests whose vCPUs run different workloads, in the reference model.</summary>
public class WorkloadModelComputeAndMixTests
{
    [Fact]
    public void Compute_stores_only_its_counter()
    {
        var image = GuestFixtures.Build("compute", vcpus: 2);
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        byte[] before = (byte[])ram.Clone();
        model.Apply(ram, 1, 0, 100_000);
        Assert.Equal([0UL, 100_000UL], model.ReadCounters(ram));
        var control = image.Layout!.Vcpus[1].ControlPage;
        for (int b = 0; b < ram.Length; b++)
            if (ram[b] != before[b]) Assert.Equal(control.Page, new GuestAddress((ulong)b).Page);
        Assert.True(model.Verify(ram, model.ReadCounters(ram)).IsExact);
        Assert.Equal(0UL, model.ExpectedWorkingSet(model.ReadCounters(ram)).Count);
        Assert.Throws<InvalidOperationException>(() => model.WriteTarget(0, 0));
        Assert.Equal(0UL, image.Layout.WorkingSet.Length);
    }

    [Fact]
    public void A_guest_with_a_workload_per_vcpu_verifies_exactly_and_names_the_vcpu_of_a_mismatch()
    {
        var image = GuestFixtures.Build("seq:ws=64K;compute;random:ws=64K,content=mixed;stride:ws=64K", vcpus: 4);
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        ulong[] counters = [1000, 50_000, 700, 5000];
        for (int v = 0; v < 4; v++) model.Apply(ram, v, 0, counters[v]);
        Assert.Equal(counters, model.ReadCounters(ram));
        var report = model.Verify(ram, counters);
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(48UL, report.PagesChecked);

        // Each vCPU wrote only its own working set.
        Assert.All(model.PagesWritten(0, 0, 1000), p => Assert.Equal(0, image.Layout!.OwnerOf(p)));
        Assert.All(model.PagesWritten(2, 0, 700), p => Assert.Equal(2, image.Layout!.OwnerOf(p)));

        var address = model.WriteTarget(2, 699).Add(2000);
        ram[address.Value] ^= 1;
        var bad = model.Verify(ram, counters);
        var m = Assert.Single(bad.Mismatches);
        Assert.Equal(2, m.Vcpu);
        Assert.Equal(address.Page, m.Page);
    }
}
