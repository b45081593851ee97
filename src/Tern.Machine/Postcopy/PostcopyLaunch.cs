using Tern.Machine.Kvm;
using Tern.Machine.Sim;
using Tern.Memory;
using Tern.Memory.Postcopy;

namespace Tern.Machine.Postcopy;

/// <summary>
/// Runs a machine whose RAM is only partly present, with a <see cref="MissingPageService"/> serving the rest, and
/// stops it again, each in the one order that is safe.
/// </summary>
public static class PostcopyLaunch
{
    /// <summary>The guest RAM of a machine Tern built.</summary>
    public static GuestRam RamOf(IVirtualMachine machine) => machine switch
    {
        KvmMachine kvm => kvm.Ram,
        SimMachine sim => sim.Ram,
        _ => throw new NotSupportedException($"post-copy needs a Tern machine's guest RAM; {machine.GetType().Name} has none"),
    };

    /// <summary>
    /// Starts serving missing pages, then restores <paramref name="state"/> and resumes the guest. The service starts
    /// first because restoring already touches RAM: KVM may write guest pages while loading MSRs (kvmclock), and the
    /// simulated vCPUs read their counters from their control pages. The source must already be serving requests.
    /// </summary>
    public static void Resume(IVirtualMachine machine, MissingPageService service, ReadOnlySpan<byte> state)
    {
        Prepare(machine, service, state);
        machine.Resume();
    }

    /// <summary>
    /// The first half of <see cref="Resume"/>: starts serving missing pages and restores <paramref name="state"/>,
    /// leaving the machine paused (a migration resumes it only once the source has committed the hand-over).
    /// </summary>
    public static void Prepare(IVirtualMachine machine, MissingPageService service, ReadOnlySpan<byte> state)
    {
        if (machine.State == MachineRunState.Running) throw new InvalidOperationException("the machine is already running");
        service.Start();
        // KVM's vCPUs fault inside KVM_RUN, where the kernel blocks them until their page is placed; the simulated
        // vCPUs are managed threads and must ask instead.
        if (machine is SimMachine sim) sim.ServeMissingPagesFrom(service);
        machine.RestoreState(state);
    }

    /// <summary>How long a pause may take before the vCPUs it waits for are taken to be blocked on missing pages.</summary>
    public static readonly TimeSpan PauseGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Stops and destroys a machine that may still be waiting for pages that will never come (the source is gone),
    /// without hanging and without the guest running on a page that did not arrive.
    /// </summary>
    /// <remarks>
    /// The pause comes first: it kicks every vCPU (immediate_exit and a signal), and the simulated vCPUs check for it
    /// while they wait. A KVM vCPU blocked on a missing page inside KVM_RUN is not always interruptible: on the kvm_pvm
    /// hosts Tern is tested on, the kick does not end the wait (measured: the pause never returned). So if the pause has
    /// not finished within <see cref="PauseGrace"/>, the service is stopped, which closes the userfaultfd and lets each
    /// blocked access go on with a zero page. The guest should not run on that page: the vCPU's kick is pending, and KVM
    /// checks for signals before each guest entry, so it returns to Tern and the pause completes (the shutdown test sees
    /// the vCPU stop without a fault). The page stays unmarked in <see cref="ReceivedPages"/>, and the machine, destroyed
    /// next, is never resumed or saved. The only other way out of such a wait is the page itself, which will not come.
    /// </remarks>
    public static void Shutdown(IVirtualMachine machine, MissingPageService service)
    {
        try
        {
            var pause = Task.Run(machine.Pause);
            if (!pause.Wait(PauseGrace))
            {
                service.Dispose();
                pause.Wait();
            }
            machine.Dispose();
        }
        finally
        {
            service.Dispose();
        }
    }
}
