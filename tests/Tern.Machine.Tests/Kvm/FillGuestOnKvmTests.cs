using Tern.Guest;
using Tern.Machine.Kvm;
using Tern.Machine.Tests.Guest;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine.Tests.Kvm;

/// <summary>The fill workload on Tern's own VMM: one pass over the working set, then a rest that writes nothing.</summary>
[Collection(KvmCollection.Name)]
public sealed class FillGuestOnKvmTests(ITestOutputHelper output)
{
    private const ulong Memory = 128 << 20;

    [Theory]
    [InlineData("fill:ws=64M", 1)]
    [InlineData("fill:ws=64M,content=mixed", 2)]
    public void Fills_once_then_rests_heartbeating_with_a_dirty_log_that_stays_empty(string workload, int vcpus)
    {
        RequireKvm.Present();
        var spec = GuestWorkload.Parse(workload);
        var model = new WorkloadModel(GuestLayout.Compute(spec, Memory, vcpus));
        using var machine = (KvmMachine)MachineBuilder.Boot(spec, Memory, vcpus, new MachineHostOptions { Backend = MachineBackend.Kvm });
        Span<byte> Ram() => machine.Memory.GetSpan(GuestAddress.Zero, (int)Memory);
        ulong[] slices = model.Layout.Vcpus.Select(v => v.Slice.RegionAPages).ToArray();

        machine.Resume();
        MachineWait.Until(() => model.ReadCounters(Ram()).SequenceEqual(slices), TimeSpan.FromSeconds(60), "every vCPU's pass over its slice");
        // The rest heartbeats on its timer.
        long[] beats = Enumerable.Range(0, vcpus).Select(v => machine.Heartbeats.Count(v)).ToArray();
        MachineWait.Until(() => Enumerable.Range(0, vcpus).All(v => machine.Heartbeats.Count(v) > beats[v] + 100), TimeSpan.FromSeconds(20), "100 more heartbeats from every resting vCPU");

        machine.DirtyTracker.Start();
        Thread.Sleep(300);
        machine.Pause();
        var dirty = new DirtyBitmap(machine.Memory.PageCount);
        machine.DirtyTracker.Sync(dirty);
        machine.DirtyTracker.Stop();
        Assert.Null(machine.Fault);

        var counters = model.ReadCounters(Ram());
        Assert.Equal(slices, counters);
        var report = model.Verify(Ram(), counters);
        Assert.True(report.IsExact, report.ToString());
        Assert.All(report.InFlightWriteApplied, applied => Assert.False(applied, "no write after the pass"));

        // Resting writes nothing in the working set; only the vCPUs' control pages and (kernel) stacks change.
        var layout = model.Layout;
        int written = 0;
        foreach (var page in dirty.SetPages())
        {
            written++;
            Assert.False(layout.WorkingSet.Contains(page), $"{page} ({page.Address}) in the working set was written after the fill");
            bool vcpuPage = layout.Vcpus.Any(v => page == v.ControlPage.Page || v.Stack.Contains(page) || v.KernelStack.Page == page);
            bool cpu = layout.PageTables.Contains(page) || page == layout.Gdt.Page;
            Assert.True(vcpuPage || cpu, $"{page} ({page.Address}) was written while the guest rested");
        }
        output.WriteLine($"{workload}: counters {string.Join(", ", counters)}; {written} pages written while resting; {report}");
    }
}
