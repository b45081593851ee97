using Tern.Guest;
using Tern.Machine.Kvm;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine.Tests.Kvm;

/// <summary>Every built-in workload on Tern's own VMM: it boots, heartbeats, and writes exactly what its model says.</summary>
[Collection(KvmCollection.Name)]
public sealed class WorkloadOnKvmTests
{
    private const ulong Memory = 128 << 20;

    private static (KvmMachine Machine, WorkloadModel Model) Boot(string workload, int vcpus, DirtyTrackingKind tracking = DirtyTrackingKind.Log)
    {
        var spec = WorkloadSpec.Parse(workload);
        var machine = (KvmMachine)MachineBuilder.Boot(spec, Memory, vcpus, new MachineHostOptions { Backend = MachineBackend.Kvm, DirtyTracking = tracking });
        return (machine, new WorkloadModel(GuestLayout.Compute(spec, Memory, vcpus)));
    }

    private static ulong[] Counters(WorkloadModel model, KvmMachine machine) =>
        model.ReadCounters(machine.Memory.GetSpan(GuestAddress.Zero, (int)Memory));

    [Theory]
    [InlineData("idle", 2)]
    [InlineData("stride", 1)]
    [InlineData("seq:ws=32M", 2)]
    [InlineData("random:ws=32M", 2)]
    [InlineData("hotcold:ws=32M,hot=4M,p=0.9", 2)]
    [InlineData("seq:ws=32M,rate=50", 1)]
    public void Each_workload_boots_heartbeats_and_matches_its_model_byte_for_byte(string workload, int vcpus)
    {
        RequireKvm.Present();
        var (machine, model) = Boot(workload, vcpus);
        using (machine)
        {
            machine.Resume();
            MachineWait.Until(() => Enumerable.Range(0, vcpus).All(v => machine.Heartbeats.Count(v) > 100), TimeSpan.FromSeconds(20), "100 heartbeats from every vCPU");
            machine.Pause();
            Assert.Null(machine.Fault);
            var counters = Counters(model, machine);
            Assert.All(counters, c => Assert.True(c > 0, "the workload made progress"));
            var report = model.Verify(machine.Memory.GetSpan(GuestAddress.Zero, (int)Memory), counters);
            Assert.True(report.IsExact, report.ToString());
        }
    }

    [Theory]
    [InlineData(DirtyTrackingKind.Log)]
    [InlineData(DirtyTrackingKind.Ring)]
    public void The_dirty_log_reports_what_the_workload_wrote_and_nothing_outside_what_it_may_write(DirtyTrackingKind tracking)
    {
        RequireKvm.Present();
        var (machine, model) = Boot("random:ws=32M,rate=100", 2, tracking);
        using (machine)
        {
            machine.Resume();
            MachineWait.Until(() => machine.Heartbeats.TotalCount > 50, TimeSpan.FromSeconds(20), "heartbeats");
            machine.Pause();
            var before = Counters(model, machine);
            machine.DirtyTracker.Start();
            machine.Resume();
            Thread.Sleep(300);
            machine.Pause();
            var after = Counters(model, machine);
            var dirty = new DirtyBitmap(machine.Memory.PageCount);
            machine.DirtyTracker.Sync(dirty);
            machine.DirtyTracker.Stop();

            // Every page the model says was written in [before, after) is reported...
            for (int v = 0; v < 2; v++)
            {
                Assert.True(after[v] > before[v], $"vCPU {v} ran");
                foreach (var page in model.PagesWritten(v, before[v], after[v]))
                    Assert.True(dirty.IsSet(page), $"{page} written by vCPU {v} was not reported");
            }
            // ...and nothing outside the working set except what the layout says the guest and CPU write there.
            var layout = model.Layout;
            foreach (var page in dirty.SetPages())
            {
                bool inWorkingSet = page.Address >= layout.WorkingSet.Start && page.Address < layout.WorkingSet.End;
                Assert.True(inWorkingSet || layout.IsWrittenOutsideWorkingSet(page), $"{page} ({page.Address}) is outside what the guest may write");
            }
        }
    }
}
