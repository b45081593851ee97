using Tern.Control.Host;
using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Memory;
using Tern.Memory.Postcopy;
using Tern.Migration.Api;

namespace Tern.Control.Tests.Host;

/// <summary>
/// A machine that faults under a running VM host: the host says so (run state internal-error, a STOP event). The
/// host records the fault off the faulting vCPU's thread, which must never wait for the host's lock: a pause holds
/// that lock while it waits for every vCPU, and a KVM vCPU raises its fault before it answers the pause. (The simulated vCPU parks before it
/// raises, so this test cannot show that deadlock; it shows the fault still reaches the host.)
/// </summary>
public sealed class MachineFaultTests
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };

    [Fact]
    public void A_vcpu_that_fails_leaves_the_host_in_internal_error_with_a_stop_event()
    {
        var pages = new FailingPageArrival();
        var machine = SimMachine.Create(new SimMachineOptions(16 << 20, 2, WorkloadSpec.Parse("seq:ws=4M")));
        machine.ServeMissingPagesFrom(pages);
        using var host = new VmHost(machine, Sim);
        var events = new List<string>();
        host.EventRaised += (_, e) => { lock (events) events.Add(e.Name); };
        host.Start();
        Assert.True(SpinWait.SpinUntil(() => machine.Heartbeats.Count(0) > 0, TimeSpan.FromSeconds(10)), "the guest never ran");

        pages.Fail = true;
        Assert.True(SpinWait.SpinUntil(() => host.RunState == RunState.InternalError, TimeSpan.FromSeconds(10)), $"run state {host.RunState}");
        Assert.True(SpinWait.SpinUntil(() => { lock (events) return events.Contains("STOP"); }, TimeSpan.FromSeconds(10)), "no STOP event");
    }

    /// <summary>
    /// All pages present until <see cref="Fail"/>; then none are, and reporting or waiting for one throws, as a disposed
    /// source does. Waiting throws too: a vCPU may have found its batch's pages present just before the switch and
    /// then waits for them (a CI run saw that vCPU wait on TimedOut forever, the host still running).
    /// </summary>
    private sealed class FailingPageArrival : IPageArrival
    {
        public volatile bool Fail;
        public bool IsComplete => false;
        public bool IsPresent(PageIndex page) => !Fail;
        public void ReportMissing(PageIndex page) => throw Gone();
        public PageWait WaitUntilPresent(PageIndex page, int timeoutMilliseconds) => Fail ? throw Gone() : PageWait.Present;
        private static ObjectDisposedException Gone() => new("LocalPageSource", "the page source is gone");
    }
}
