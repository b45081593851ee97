using Tern.Machine.Tests.Kvm;
using Tern.Memory;

namespace Tern.Machine.Tests.Postcopy;

/// <summary>
/// A guest restored from its captured state runs before all of its RAM is in place: the missing pages are served on
/// demand (and pushed in the background), it makes progress, and afterwards all of RAM is exactly what its model says.
/// Both backends: KVM's vCPUs fault inside KVM_RUN and are served through userfaultfd; the simulated vCPUs ask first.
/// </summary>
[Collection(KvmCollection.Name)]
public sealed class PartialRamResumeTests
{
    private static void RequireBackend(MachineBackend backend)
    {
        if (backend == MachineBackend.Kvm) RequireKvm.Present();
    }

    [Theory]
    [InlineData(MachineBackend.Kvm, "seq:ws=32M")]
    [InlineData(MachineBackend.Kvm, "random:ws=32M")]
    [InlineData(MachineBackend.Sim, "seq:ws=32M")]
    [InlineData(MachineBackend.Sim, "random:ws=32M")]
    public void With_every_other_page_present_the_guest_runs_on_pages_served_on_demand_and_matches_its_model(MachineBackend backend, string workload)
    {
        RequireBackend(backend);
        using var run = PartialRamRun.Capture(backend, workload, vcpus: 2, present: page => page.Value % 2 == 0);
        run.Resume();
        run.WaitForHeartbeats(100);
        run.Pause();

        var counters = run.Service.Counters;
        Assert.True(counters.Faults > 0, "the guest never touched a missing page");
        if (backend == MachineBackend.Kvm) Assert.Equal(0, counters.ReportedMisses); // KVM's vCPUs fault in the kernel
        Assert.True(counters.PagesRequested > 0 && counters.PagesRequested == run.Pages.RequestsServed,
            $"{counters.PagesRequested} pages requested, {run.Pages.RequestsServed} served");
        Assert.Equal(counters.PagesRequested, counters.LatencyBuckets.Sum());
        run.VerifyAfterPause();
    }

    [Theory]
    [InlineData(MachineBackend.Kvm)]
    [InlineData(MachineBackend.Sim)]
    public void With_no_page_present_slow_requests_and_a_background_push_the_guest_runs_and_matches_its_model(MachineBackend backend)
    {
        RequireBackend(backend);
        using var run = PartialRamRun.Capture(backend, "random:ws=32M", vcpus: 2, present: _ => false, requestDelay: TimeSpan.FromMilliseconds(1));
        run.Resume();
        run.Pages.PushRemaining(run.Service, run.Received, pagesPerMillisecond: 16);
        run.WaitForHeartbeats(100);
        run.Pause();

        Assert.True(run.Service.Counters.PagesRequested > 0, "no page was requested");
        run.VerifyAfterPause();
    }
}
