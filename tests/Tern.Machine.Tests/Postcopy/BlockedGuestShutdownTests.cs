using Tern.Machine.Postcopy;
using Tern.Machine.Tests.Kvm;
using Tern.Memory;

namespace Tern.Machine.Tests.Postcopy;

/// <summary>
/// A guest blocked on a page that never comes (the source stopped answering) can still be paused and destroyed:
/// nothing hangs, and no page that did not arrive is marked received.
/// </summary>
[Collection(KvmCollection.Name)]
public sealed class BlockedGuestShutdownTests
{
    [Theory]
    [InlineData(MachineBackend.Kvm)]
    [InlineData(MachineBackend.Sim)]
    public void A_guest_blocked_on_a_page_that_never_comes_is_paused_and_destroyed_promptly(MachineBackend backend)
    {
        if (backend == MachineBackend.Kvm) RequireKvm.Present();
        using var run = PartialRamRun.Capture(backend, "seq:ws=32M", vcpus: 2, present: page => page.Value % 2 == 0, serveRequests: false);
        // The simulated vCPUs read their counters while the state is restored: their control pages must be there.
        if (backend == MachineBackend.Sim)
            foreach (var vcpu in run.Model.Layout.Vcpus)
                run.Service.Place(vcpu.ControlPage.Page, run.Pages.Page(vcpu.ControlPage.Page));
        run.Resume();
        MachineWait.Until(() => run.Service.Counters.PagesRequested >= 1, PartialRamRun.Patience, "the guest to wait for a missing page");
        Thread.Sleep(200); // the guest is blocked now: nothing answers
        long received = run.Received.Count;

        var shutdown = new Thread(() => PostcopyLaunch.Shutdown(run.Destination, run.Service)) { IsBackground = true };
        var started = System.Diagnostics.Stopwatch.StartNew();
        shutdown.Start();
        if (!shutdown.Join(TimeSpan.FromSeconds(20)))
        {
            run.Service.Dispose(); // release the guest so the test process can go on
            Assert.Fail("pausing and destroying a machine blocked on a missing page hung");
        }
        Assert.Equal(MachineRunState.Destroyed, run.Destination.State);
        Assert.Null(run.Destination.Fault); // released, the vCPU left KVM_RUN as paused, not with an error
        Assert.Equal(received, run.Received.Count);
        Assert.False(run.Service.IsServing);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {started.Elapsed}");
    }
}
