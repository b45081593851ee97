using Tern.Machine.Tests.Kvm;

namespace Tern.Machine.Tests.Postcopy;

/// <summary>
/// A KVM guest that starts with none of its RAM and faults on page after page keeps running while a background
/// thread pushes the rest: its faults are served between the pushed pages, not after them.
/// </summary>
[Collection(KvmCollection.Name)]
public sealed class FaultingGuestProgressTests
{
    [Fact]
    public void A_guest_faulting_in_a_tight_loop_keeps_making_progress_while_pages_are_pushed()
    {
        RequireKvm.Present();
        using var run = PartialRamRun.Capture(MachineBackend.Kvm, "random:ws=32M", vcpus: 1, present: _ => false);
        run.Resume();
        // 4 pages a millisecond: the push of 64 MiB takes about four seconds, far longer than the guest's faults.
        run.Pages.PushRemaining(run.Service, run.Received, pagesPerMillisecond: 4);

        var first = SampleAfterFaults(run, 1_000);
        var second = SampleAfterFaults(run, 3_000);
        run.Pause();

        Assert.True(second.Heartbeats > first.Heartbeats + 10,
            $"the guest stalled while faulting: {first.Heartbeats} heartbeats after {first.Faults} faults, {second.Heartbeats} after {second.Faults}");
        Assert.True(second.Pushed > first.Pushed, "the background push did not run while the guest faulted");
        Assert.False(second.Complete, "every page had arrived before the guest's faults were measured");
        run.VerifyAfterPause();
    }

    private sealed record Sample(long Faults, long Heartbeats, long Pushed, bool Complete);

    private static Sample SampleAfterFaults(PartialRamRun run, long faults)
    {
        MachineWait.Until(() => run.Service.Counters.KernelFaults >= faults || run.Destination.Fault is not null, PartialRamRun.Patience, $"{faults} faults");
        Assert.Null(run.Destination.Fault);
        return new Sample(run.Service.Counters.KernelFaults, run.Destination.Heartbeats.Count(0), run.Pages.PagesPushed, run.Service.IsComplete);
    }
}
