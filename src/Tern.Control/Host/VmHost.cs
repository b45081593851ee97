using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;

namespace Tern.Control.Host;

/// <summary>
/// One VM process: the machine (or the promise of one, for an incoming migration), the operator's migration
/// settings, and at most one migration at a time. It is what QMP drives (<see cref="IVmControl"/>), and it keeps the
/// run state honest: a VM that has been handed over is never resumed here by accident, and a failed migration
/// leaves the VM running where it was.
/// </summary>
public sealed partial class VmHost : IVmControl, IDisposable
{
    private readonly object gate = new();
    private readonly MachineHostOptions hostOptions;
    private readonly TaskCompletionSource quitRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IVirtualMachine? machine;
    private RunState runState;
    private string? note;

    /// <summary>A host for a machine that is already built (booted, not yet running).</summary>
    public VmHost(IVirtualMachine machine, MachineHostOptions hostOptions)
    {
        this.machine = machine;
        this.hostOptions = hostOptions;
        runState = RunState.Prelaunch;
        machine.Faulted += OnFault;
        StartProgressSampling();
    }

    /// <summary>A host waiting for an incoming migration (<c>--incoming</c>): no machine until one arrives.</summary>
    /// <param name="incomingLimits">
    /// The most an arriving VM may be (the <c>--memory</c> and <c>--vcpus</c> this host was started with); null: the
    /// host's memory and Tern's maximum vCPUs.
    /// </param>
    public VmHost(MachineHostOptions hostOptions, DestinationLimits? incomingLimits = null)
    {
        if (incomingLimits?.Validate() is { } problem) throw new ArgumentException(problem, nameof(incomingLimits));
        this.hostOptions = hostOptions;
        this.incomingLimits = incomingLimits;
        runState = RunState.InMigrate;
        StartProgressSampling();
    }

    private readonly DestinationLimits? incomingLimits;

    public MigrationSettings Settings { get; } = new();

    public event EventHandler<VmEvent>? EventRaised;

    /// <summary>Human-readable lines about what the host did (migration decisions, failures); the CLI prints them.</summary>
    public event Action<string>? Log;

    /// <summary>Completes when a QMP client sent <c>quit</c>.</summary>
    public Task QuitRequested => quitRequested.Task;

    /// <summary>The machine, once there is one.</summary>
    public IVirtualMachine? Machine { get { lock (gate) return machine; } }

    public RunState RunState
    {
        get
        {
            lock (gate)
            {
                SettleOutgoing();
                return runState;
            }
        }
    }

    /// <summary>Why the VM is in its state, when that needs saying (after a failed hand-over, a fault).</summary>
    public string? Note { get { lock (gate) return note; } }

    /// <summary>Starts the guest for the first time.</summary>
    public void Start()
    {
        lock (gate)
        {
            if (runState != RunState.Prelaunch || machine is null) throw new VmControlException($"the VM cannot start from state {runState.ToQapi()}");
            machine.Resume();
            runState = RunState.Running;
            RecordProgress(); // the guest's progress is measured from here, even before the sampling timer first fires
        }
        Raise(VmEvent.Resume());
    }

    public void Stop()
    {
        lock (gate)
        {
            SettleOutgoing();
            switch (runState)
            {
                case RunState.Running:
                    machine!.Pause();
                    runState = RunState.Paused;
                    break;
                case RunState.Paused or RunState.PostMigrate:
                    return;
                case RunState.FinishMigrate:
                    throw new VmControlException("the VM is paused for the final stage of a migration");
                case RunState.InMigrate:
                    throw new VmControlException("the VM is being migrated in and is not running yet");
                default:
                    throw new VmControlException($"the VM cannot be stopped in state {runState.ToQapi()}");
            }
        }
        Raise(VmEvent.Stop());
    }

    public void Cont()
    {
        lock (gate)
        {
            SettleOutgoing();
            switch (runState)
            {
                case RunState.Running:
                    return;
                case RunState.Paused or RunState.Prelaunch:
                    if (machine is null) throw new VmControlException("there is no VM here to run");
                    if (outgoing is { Status: MigrationStatus.Active or MigrationStatus.Setup or MigrationStatus.Cancelling })
                        throw new VmControlException("a migration is under way; cancel it first (migrate_cancel)");
                    if (incoming is { Status: MigrationStatus.PostcopyPaused or MigrationStatus.PostcopyRecover } paused)
                        throw new VmControlException($"post-copy is paused and some of the guest's pages are still on the source: recover it (migrate-recover here, " +
                            $"migrate with resume: true on the source); the guest runs again once the link is back ({paused.Info().ErrorDesc})");
                    machine.Resume();
                    runState = RunState.Running;
                    note = null;
                    RecordProgress();
                    break;
                case RunState.PostMigrate:
                    throw new VmControlException("the VM was migrated away and runs on the destination; running it here too would run it twice");
                case RunState.InMigrate:
                    throw new VmControlException("the VM is being migrated in; it runs here once the source commits the hand-over");
                case RunState.FinishMigrate:
                    throw new VmControlException("the VM is paused for the final stage of a migration");
                default:
                    throw new VmControlException($"the VM cannot run in state {runState.ToQapi()}{(note is null ? "" : $": {note}")}");
            }
        }
        Raise(VmEvent.Resume());
    }

    public void Quit()
    {
        Raise(VmEvent.Shutdown(guest: false, "host-qmp-quit"));
        quitRequested.TrySetResult();
    }

    /// <summary>
    /// The machine faulted. Raised on the faulting vCPU's thread, possibly while another thread holds the gate and waits
    /// for that very vCPU (a pause for <c>stop</c> or <c>x-check-guest</c>): taking the gate there would deadlock both, so
    /// the fault is recorded on a thread of its own and the vCPU thread goes on at once. (Not the thread pool: a pool
    /// starved by blocked callers delayed the record for seconds.) A machine faults once, so this is one thread.
    /// </summary>
    private void OnFault(MachineFault fault) =>
        new Thread(() => RecordFault(fault)) { IsBackground = true, Name = "tern machine fault" }.Start();

    private void RecordFault(MachineFault fault)
    {
        lock (gate)
        {
            runState = fault.Kind == MachineFaultKind.GuestPanic ? RunState.GuestPanicked
                : fault.Kind == MachineFaultKind.Shutdown ? RunState.Shutdown : RunState.InternalError;
            note = fault.ToString();
        }
        Log?.Invoke($"guest stopped: {fault}");
        Raise(fault.Kind == MachineFaultKind.Shutdown ? VmEvent.Shutdown(guest: true, "guest-shutdown") : VmEvent.Stop());
    }

    private void Raise(VmEvent e) => EventRaised?.Invoke(this, e);

    public void Dispose()
    {
        StopProgressSampling();
        CancelAll();
        // A measurement reads guest RAM and may hold dirty tracking on: end it before the machine goes.
        dirtyRateMeter?.Dispose();
        StopDirtyLimiter();
        IVirtualMachine? m;
        lock (gate)
        {
            m = machine;
            machine = null;
        }
        m?.Dispose();
    }
}
