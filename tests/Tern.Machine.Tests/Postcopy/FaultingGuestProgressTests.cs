using Tern.Guest;
using Tern.Machine.Tests.Kvm;
using Tern.Memory;

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

        // The guest stores its counter every 256 writes, and each of the 2,000 faults between the samples is a write.
        Assert.True(second.Counter > first.Counter,
            $"the guest stalled while faulting: counter {first.Counter} after {first.Faults} faults, {second.Counter} after {second.Faults}");
        Assert.True(second.Pushed > first.Pushed, "the background push did not run while the guest faulted");
        Assert.False(second.Complete, "every page had arrived before the guest's faults were measured");
        run.VerifyAfterPause();
    }

    private sealed record Sample(long Faults, ulong Counter, long Pushed, bool Complete);

    private static Sample SampleAfterFaults(PartialRamRun run, long faults)
    {
        MachineWait.Until(() => run.Service.Counters.KernelFaults >= faults || run.Destination.Fault is not null, PartialRamRun.Patience, $"{faults} faults");
        Assert.Null(run.Destination.Fault);
        // The control page is read only once it is present: managed code never touches a missing page.
        var control = run.Model.Layout.Vcpus[0].ControlPage;
        Assert.True(run.Service.IsPresent(control.Page), "the guest faulted on pages but never stored its counter");
        ulong counter = ControlPage.Read(run.Ram.GetSpan(control, PageSize.Bytes)).Counter;
        return new Sample(run.Service.Counters.KernelFaults, counter, run.Pages.PagesPushed, run.Service.IsComplete);
    }
}
