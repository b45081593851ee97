using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Memory;
using Tern.Memory.Postcopy;

namespace Tern.Machine.Tests.Sim;

/// <summary>
/// A simulated vCPU whose thread fails (here: the page source it asks for a missing page throws, as a disposed one
/// does) faults the machine instead of ending the process: an exception escaping a thread ends the whole .NET process,
/// and the VM host with it. The vCPU thread had no handler at all (without the fix the run reports a fatal error and
/// no fault is recorded).
/// </summary>
public sealed class SimVcpuFailureTests
{
    [Fact]
    public void A_vcpu_thread_that_fails_faults_the_machine_and_stays_pausable()
    {
        var pages = new FailingPageArrival();
        using var machine = SimMachine.Create(new SimMachineOptions(16 << 20, 2, WorkloadSpec.Parse("seq:ws=4M")));
        MachineFault? raised = null;
        machine.Faulted += f => raised = f;
        machine.ServeMissingPagesFrom(pages);
        machine.Resume();
        Assert.True(SpinWait.SpinUntil(() => machine.Heartbeats.Count(0) > 0, TimeSpan.FromSeconds(10)), "the guest never ran");

        pages.Fail = true; // from now on every page is missing, and asking for one throws
        Assert.True(SpinWait.SpinUntil(() => machine.Fault is not null, TimeSpan.FromSeconds(10)), "the failure was not reported as a fault");

        Assert.Equal(MachineRunState.Faulted, machine.State);
        Assert.Equal(MachineFaultKind.HostError, machine.Fault!.Kind);
        Assert.Contains("the page source is gone", machine.Fault.Description);
        Assert.Same(machine.Fault, raised);
        machine.Pause(); // returns: the failed vCPU is parked, the other one stops
        var refused = Assert.Throws<InvalidOperationException>(machine.Resume);
        Assert.Contains("faulted", refused.Message);
    }

    /// <summary>All pages present until <see cref="Fail"/>; then none are, and reporting one throws.</summary>
    private sealed class FailingPageArrival : IPageArrival
    {
        public volatile bool Fail;
        public bool IsComplete => false;
        public bool IsPresent(PageIndex page) => !Fail;
        public void ReportMissing(PageIndex page) => throw new ObjectDisposedException("LocalPageSource", "the page source is gone");
        public PageWait WaitUntilPresent(PageIndex page, int timeoutMilliseconds) => Fail ? PageWait.TimedOut : PageWait.Present;
    }
}
