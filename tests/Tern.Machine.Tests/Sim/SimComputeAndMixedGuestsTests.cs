using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Machine.Tests.Guest;
using Tern.Memory;

namespace Tern.Machine.Tests.Sim;

/// <summary>The simulated backend runs compute, per-vCPU workloads and content=mixed exactly as the model says.</summary>
public sealed class SimComputeAndMixedGuestsTests
{
    [Theory]
    [InlineData("compute", 1)]
    [InlineData("seq:ws=8M;compute", 2)]
    [InlineData("compute;random:ws=8M,content=mixed;idle", 3)]
    [InlineData("stride:ws=4M,content=mixed;seq:ws=4M,content=mixed", 2)]
    public void Every_vcpu_runs_its_own_workload_and_the_guest_stays_exact(string workload, int vcpus)
    {
        using var machine = SimMachine.Create(new SimMachineOptions(64UL << 20, vcpus, GuestWorkload.Parse(workload)));
        Assert.Equal(workload, machine.Description.Workload);
        machine.Resume();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline && (machine.ReadCounters().Any(c => c < 1000) || Enumerable.Range(0, vcpus).Any(v => machine.Heartbeats.Count(v) < 20)))
            Thread.Sleep(10);
        machine.Pause();
        var counters = machine.ReadCounters();
        for (int v = 0; v < vcpus; v++)
        {
            bool idle = machine.Model.Layout.Vcpus[v].Workload.Kind == WorkloadKind.Idle;
            Assert.True(counters[v] >= (idle ? 20UL : 1000UL), $"vCPU {v} counted {counters[v]}");
            Assert.True(machine.Heartbeats.Count(v) >= 20, $"vCPU {v} beat {machine.Heartbeats.Count(v)} times");
        }
        var report = machine.Model.Verify(machine.Ram.GetSpan(GuestAddress.Zero, (int)machine.Ram.Size), counters);
        Assert.True(report.IsExact, report.ToString());
    }

    [Fact]
    public void Pages_a_simulated_guest_filled_with_mixed_content_compress_two_to_three_times_with_zstd()
    {
        using var machine = SimMachine.Create(new SimMachineOptions(64UL << 20, 1, GuestWorkload.Parse("seq:ws=8M,content=mixed")));
        ulong pages = machine.Model.Layout.WorkingSet.PageCount;
        machine.Resume();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && machine.ReadCounters()[0] < 2 * pages) Thread.Sleep(10);
        machine.Pause();
        Assert.True(machine.ReadCounters()[0] >= 2 * pages, "two passes over the working set");
        var ram = machine.Ram.GetSpan(GuestAddress.Zero, (int)machine.Ram.Size);
        Assert.True(machine.Model.Verify(ram, machine.ReadCounters()).IsExact);
        Assert.InRange(WorkloadModelMixedContentTests.ZstdRatio(ram, machine.Model.Layout.WorkingSet), 2.0, 3.0);
    }
}
