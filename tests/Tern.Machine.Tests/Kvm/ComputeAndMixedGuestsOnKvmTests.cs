using Tern.Guest;
using Tern.Machine.Kvm;
using Tern.Machine.Tests.Guest;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine.Tests.Kvm;

/// <summary>The compute workload, per-vCPU workloads and content=mixed pages on Tern's own VMM.</summary>
[Collection(KvmCollection.Name)]
public sealed class ComputeAndMixedGuestsOnKvmTests(ITestOutputHelper output)
{
    private const ulong Memory = 128 << 20;

    private static (KvmMachine Machine, WorkloadModel Model) Boot(string workload, int vcpus, DirtyTrackingKind tracking = DirtyTrackingKind.Log)
    {
        var spec = GuestWorkload.Parse(workload);
        var machine = (KvmMachine)MachineBuilder.Boot(spec, Memory, vcpus, new MachineHostOptions { Backend = MachineBackend.Kvm, DirtyTracking = tracking });
        return (machine, new WorkloadModel(GuestLayout.Compute(spec, Memory, vcpus)));
    }

    private static Span<byte> Ram(KvmMachine machine) => machine.Memory.GetSpan(GuestAddress.Zero, (int)Memory);

    [Theory]
    [InlineData("compute", 2)]
    [InlineData("seq:ws=32M,content=mixed", 2)]
    [InlineData("random:ws=32M,content=mixed", 2)]
    [InlineData("hotcold:ws=32M,hot=4M,content=mixed", 1)]
    [InlineData("stride:ws=4M,content=mixed", 2)]
    [InlineData("stride:ws=16M,content=mixed,rate=5", 1)] // stopped during its first pass, which fills the blocks
    [InlineData("seq:ws=32M;compute", 2)]
    [InlineData("compute;random:ws=16M,content=mixed,rate=20;idle", 3)]
    [InlineData("stride:ws=4M;seq:ws=8M;hotcold:ws=8M,hot=1M", 3)]
    public void Boots_heartbeats_and_matches_its_model_byte_for_byte(string workload, int vcpus)
    {
        RequireKvm.Present();
        var (machine, model) = Boot(workload, vcpus);
        using (machine)
        {
            machine.Resume();
            MachineWait.Until(() => Enumerable.Range(0, vcpus).All(v => machine.Heartbeats.Count(v) > 100), TimeSpan.FromSeconds(20), "100 heartbeats from every vCPU");
            machine.Pause();
            Assert.Null(machine.Fault);
            var counters = model.ReadCounters(Ram(machine));
            Assert.All(counters, c => Assert.True(c > 0, "every vCPU made progress"));
            var report = model.Verify(Ram(machine), counters);
            Assert.True(report.IsExact, report.ToString());
            output.WriteLine($"{workload}: counters {string.Join(", ", counters)}; {report}");
        }
    }

    [Fact]
    public void Compute_writes_nothing_outside_its_own_control_page_and_stack()
    {
        RequireKvm.Present();
        var (machine, model) = Boot("seq:ws=32M,rate=20;compute", 2);
        using (machine)
        {
            machine.Resume();
            MachineWait.Until(() => machine.Heartbeats.Count(1) > 50, TimeSpan.FromSeconds(20), "heartbeats from the compute vCPU");
            machine.Pause();
            ulong before = model.ReadCounters(Ram(machine))[1];
            machine.DirtyTracker.Start();
            machine.Resume();
            Thread.Sleep(300);
            machine.Pause();
            ulong after = model.ReadCounters(Ram(machine))[1];
            var dirty = new DirtyBitmap(machine.Memory.PageCount);
            machine.DirtyTracker.Sync(dirty);
            machine.DirtyTracker.Stop();

            Assert.True(after > before + 1000, $"compute counted {after - before} iterations in 300 ms");
            var layout = model.Layout;
            var compute = layout.Vcpus[1];
            var seq = layout.Vcpus[0];
            // Up to and including vCPU 0's in-flight write (index = its counter): the pause can stop it between
            // storing into a page and counting the store, so that page is dirty but not yet counted.
            var seqWrites = model.PagesWritten(0, 0, model.ReadCounters(Ram(machine))[0] + 1);
            foreach (var page in dirty.SetPages())
            {
                if (seqWrites.Contains(page)) continue; // vCPU 0's
                bool own = page == compute.ControlPage.Page || compute.Stack.Contains(page);
                bool vcpu0 = page == seq.ControlPage.Page || seq.Stack.Contains(page);
                bool cpu = layout.PageTables.Contains(page) || page == layout.Gdt.Page;
                Assert.True(own || vcpu0 || cpu, $"{page} ({page.Address}) was written, but compute writes only its control page and stack");
            }
            Assert.True(dirty.IsSet(compute.ControlPage.Page), "the compute vCPU's counter page was written");
        }
    }

    [Fact]
    public void Pages_the_guest_filled_with_mixed_content_compress_two_to_three_times_with_zstd()
    {
        RequireKvm.Present();
        var (machine, model) = Boot("seq:ws=32M,content=mixed", 1);
        using (machine)
        {
            ulong pages = model.Layout.WorkingSet.PageCount;
            machine.Resume();
            // Two passes: every page has been rewritten at least once.
            MachineWait.Until(() => model.ReadCounters(Ram(machine))[0] > 2 * pages, TimeSpan.FromSeconds(30), "two passes over the working set");
            machine.Pause();
            var counters = model.ReadCounters(Ram(machine));
            Assert.True(model.Verify(Ram(machine), counters).IsExact);
            double ratio = WorkloadModelMixedContentTests.ZstdRatio(Ram(machine), model.Layout.WorkingSet);
            output.WriteLine($"zstd level 1, page by page, over {pages} guest-written pages: {ratio:0.00}x");
            Assert.InRange(ratio, 2.0, 3.0);
        }
    }
}
