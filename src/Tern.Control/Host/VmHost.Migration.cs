using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Transport;

namespace Tern.Control.Host;

public sealed partial class VmHost
{
    private MigrationSource? outgoing;
    private Task? outgoingRun;
    private bool runningBeforeMigration;
    private MigrationDestination? incoming;
    private IMigrationListener? incomingListener;
    private IncomingMigrations? incomingMigrations;
    private readonly CancellationTokenSource incomingCancel = new();

    /// <summary>The address an incoming migration listens on, once listening (useful with port 0).</summary>
    public MigrationUri? IncomingAddress { get; private set; }

    public void StartMigration(string uri)
    {
        if (!MigrationUri.TryParse(uri, out var destination, out var error)) throw new VmControlException(error);
        lock (gate)
        {
            SettleOutgoing();
            if (machine is null || runState is not (RunState.Running or RunState.Paused or RunState.Prelaunch))
                throw new VmControlException($"there is no VM here to migrate (state {runState.ToQapi()})");
            if (outgoing is { } o && !o.Status.IsFinished()) throw new VmControlException("a migration is already under way");
            if (incoming is not null) throw new VmControlException("this VM is being migrated in");
            EnsureDirtyTrackerFree();
            SuspendDirtyLimiter(); // the migration takes the tracker over and keeps applying the limits
            RecordProgress(); // the last reading before the migration
            outgoing?.Dispose();
            var source = new MigrationSource(machine, Settings);
            source.Event += e => OnOutgoingEvent(source, e);
            runningBeforeMigration = runState == RunState.Running;
            outgoing = source;
            outgoingSettled = false;
            outgoingRun = source.RunAsync(destination!).ContinueWith(_ => { lock (gate) SettleOutgoing(); }, TaskScheduler.Default);
            RecordProgress(); // the first reading during it
        }
    }

    public void StartIncoming(string uri)
    {
        if (!MigrationUri.TryParse(uri, out var address, out var error)) throw new VmControlException(error);
        lock (gate)
        {
            if (runState != RunState.InMigrate || machine is not null)
                throw new VmControlException("migrate-incoming needs a VM started with --incoming defer that has received nothing yet");
            if (incomingListener is not null) throw new VmControlException($"already waiting for an incoming migration on {IncomingAddress}");
            try
            {
                incomingListener = address!.CreateTransport().Listen();
            }
            catch (IOException e)
            {
                throw new VmControlException(e.Message, e);
            }
            IncomingAddress = MigrationUri.Parse(incomingListener.Address);
            var migrations = new IncomingMigrations(incomingListener, NextIncoming);
            migrations.Started += OnIncomingStarted;
            migrations.Finished += OnIncomingFinished;
            migrations.Log += text => Log?.Invoke(text);
            incomingMigrations = migrations;
        }
        Log?.Invoke($"waiting for an incoming migration on {IncomingAddress}");
    }

    /// <summary>The outgoing and incoming migrations, read together under the host's lock.</summary>
    private (MigrationSource? Outgoing, MigrationDestination? Incoming) CurrentMigrations()
    {
        lock (gate) return (outgoing, incoming);
    }

    public void CancelMigration()
    {
        var (o, i) = CurrentMigrations();
        if (o is { } source && !source.Status.IsFinished()) source.Cancel();
        else i?.Cancel();
    }

    public void StartPostcopy()
    {
        MigrationSource? o;
        lock (gate) o = outgoing;
        if (o is null || o.Status.IsFinished()) throw new VmControlException("there is no outgoing migration to switch to post-copy: start one with migrate");
        try
        {
            o.StartPostcopy();
        }
        catch (InvalidOperationException e)
        {
            throw new VmControlException(e.Message, e);
        }
    }

    /// <summary>
    /// <c>migrate</c> with <c>resume: true</c>: the paused post-copy migration reconnects to <paramref name="uri"/>,
    /// where the destination's <c>migrate-recover</c> listens.
    /// </summary>
    public void ResumeMigration(string uri)
    {
        if (!MigrationUri.TryParse(uri, out var destination, out var error)) throw new VmControlException(error);
        MigrationSource? o;
        lock (gate) o = outgoing;
        if (o is null || o.Status.IsFinished())
            throw new VmControlException("resume continues a paused post-copy migration, and there is no outgoing migration here");
        try
        {
            o.ResumePostcopy(destination!.CreateTransport());
        }
        catch (InvalidOperationException e)
        {
            throw new VmControlException(e.Message, e);
        }
    }

    /// <summary>
    /// <c>migrate-recover</c>: the paused incoming post-copy migration waits for its source on <paramref name="uri"/> (a
    /// new listener; an earlier recovery listener is closed).
    /// </summary>
    public void RecoverIncoming(string uri)
    {
        if (!MigrationUri.TryParse(uri, out var address, out var error)) throw new VmControlException(error);
        lock (gate)
        {
            var destination = incoming;
            if (destination is null || destination.Status is not (MigrationStatus.PostcopyPaused))
                throw new VmControlException(destination?.Status == MigrationStatus.PostcopyRecover
                    ? "migrate-recover was already run: waiting for the source to resume (migrate with resume: true)"
                    : $"migrate-recover recovers a paused incoming post-copy migration, and there is none here (status {(destination?.Status ?? MigrationStatus.None).ToQapi()})");
            IMigrationListener listener;
            try
            {
                listener = address!.CreateTransport().Listen();
            }
            catch (IOException e)
            {
                throw new VmControlException(e.Message, e);
            }
            try
            {
                destination.RecoverPostcopy();
            }
            catch (InvalidOperationException e)
            {
                listener.Dispose();
                throw new VmControlException(e.Message, e);
            }
            CloseRecoveryListener();
            recoveryListener = listener;
            recovery = new PostcopyRecoveryListener(listener, destination);
            recovery.Log += text => Log?.Invoke(text);
            RecoveryAddress = MigrationUri.Parse(listener.Address);
        }
        Log?.Invoke($"post-copy recovery: waiting for the source on {RecoveryAddress}");
    }

    /// <summary>Where <c>migrate-recover</c> listens, once it does (useful with port 0).</summary>
    public MigrationUri? RecoveryAddress { get; private set; }

    private IMigrationListener? recoveryListener;
    private PostcopyRecoveryListener? recovery;

    private void CloseRecoveryListener()
    {
        recovery?.Dispose();
        recoveryListener?.Dispose();
        recovery = null;
        recoveryListener = null;
    }

    /// <summary><c>migrate-pause</c>: breaks an active post-copy migration's link on purpose, on whichever side this is.</summary>
    public void PauseMigration()
    {
        var (o, i) = CurrentMigrations();
        try
        {
            if (o is { } source && !source.Status.IsFinished()) source.PausePostcopy();
            else if (i is { } destination) destination.PausePostcopy();
            else throw new VmControlException("migrate-pause pauses an active post-copy migration, and there is no migration here");
        }
        catch (InvalidOperationException e)
        {
            throw new VmControlException(e.Message, e);
        }
    }

    public MigrationInfo QueryMigrate()
    {
        lock (gate)
        {
            if (outgoing is not null) return WithGuestSlowdown(outgoing, outgoing.Info());
            if (incoming is not null) return IncomingInfo(incoming);
            return lastIncoming ?? new MigrationInfo();
        }
    }

    public IReadOnlyList<PassReport> QueryMigrateHistory()
    {
        lock (gate) return outgoing?.History ?? [];
    }

    public IReadOnlyDictionary<MigrationCapability, bool> GetCapabilities() => Settings.Capabilities;

    public void SetCapabilities(IReadOnlyDictionary<MigrationCapability, bool> changes)
    {
        // Refuse the whole request before changing anything, so a refused request has no effect.
        foreach (var (capability, on) in changes)
        {
            if (on && capability is MigrationCapability.DirtyLimit && machine is { } m && !m.DirtyTracker.ReportsPerVcpu)
                throw new VmControlException($"dirty-limit needs each vCPU's dirty rate, which {m.DirtyTracker.Name} cannot tell apart: start the VM with --dirty-tracking ring");
        }
        foreach (var (capability, on) in changes) Settings.SetCapability(capability, on);
    }

    public MigrationParameters GetParameters() => Settings.Parameters;

    public void SetParameters(MigrationParameters parameters)
    {
        try
        {
            Settings.SetParameters(parameters);
        }
        catch (ArgumentException e)
        {
            throw new VmControlException(e.Message, e);
        }
    }

    private MigrationInfo? lastIncoming;

    /// <summary>The incoming migration the guest running here arrived by (post-copy: its pages may still be arriving).</summary>
    private MigrationDestination? arrivedFrom;

    private void OnOutgoingEvent(MigrationSource source, MigrationEvent e)
    {
        switch (e)
        {
            case MigrationStatusChanged s:
                if (Settings.IsEnabled(MigrationCapability.Events)) Raise(VmEvent.Migration(s.Status));
                break;
            case MigrationPassStarted p:
                if (Settings.IsEnabled(MigrationCapability.Events)) Raise(VmEvent.MigrationPass(p.Pass));
                break;
            case MigrationSwitchoverStarted:
                lock (gate)
                {
                    RecordProgress(); // the live phase ends here: the guest is about to pause
                    if (outgoing == source && runState == RunState.Running) runState = RunState.FinishMigrate;
                }
                break;
            case MigrationLog l:
                Log?.Invoke(l.Text);
                break;
        }
    }

    private bool outgoingSettled = true;

    /// <summary>
    /// Brings the run state in line with a finished outgoing migration (called with the lock held, whenever the state
    /// is read or changed): the outcome is visible as soon as the migration's final status is, so a client never sees
    /// "completed" next to a stale "finish-migrate".
    /// </summary>
    private void SettleOutgoing()
    {
        if (outgoingSettled || outgoing is not { } source || source.Outcome == MigrationOutcome.Running) return;
        outgoingSettled = true;
        switch (source.Outcome)
        {
            case MigrationOutcome.Completed:
                runState = RunState.PostMigrate;
                note = "the VM was migrated and runs on the destination";
                break;
            case MigrationOutcome.HandOverUncertain:
                runState = RunState.Paused;
                note = source.Info().ErrorDesc;
                break;
            default:
                if (machine is { } m && runState is RunState.FinishMigrate or RunState.Running or RunState.Paused)
                    runState = m.State == MachineRunState.Running ? RunState.Running : RunState.Paused;
                break;
        }
        ResumeDirtyLimiter(); // the VM is still here: the limits get their tracker back (a failure is logged)
    }

    /// <summary>
    /// The destination for the next source that says Hello, until a guest has arrived here (or the host is shutting
    /// down). Attempts are taken one at a time; a failed one discards its copy and the next source may try again.
    /// </summary>
    private MigrationDestination? NextIncoming()
    {
        lock (gate)
        {
            if (machine is not null || incomingCancel.IsCancellationRequested) return null;
        }
        var destination = new MigrationDestination(d => MachineBuilder.CreateIncoming(d, hostOptions), incomingLimits);
        destination.Event += OnIncomingEvent;
        return destination;
    }

    /// <summary>
    /// An incoming attempt's statistics; once it has failed and discarded its copy, its error also says that this
    /// host waits for another attempt (call with the gate held).
    /// </summary>
    private MigrationInfo IncomingInfo(MigrationDestination destination)
    {
        var info = destination.Info();
        if (destination.State == DestinationState.Discarded && info.ErrorDesc is { } why && !incomingCancel.IsCancellationRequested)
            info = info with { ErrorDesc = $"{why}; waiting for another attempt on {IncomingAddress}" };
        return info;
    }

    private void OnIncomingStarted(MigrationDestination destination)
    {
        lock (gate) incoming = destination;
    }

    /// <summary>
    /// An attempt has ended and its receivers have stopped: take the guest over if it arrived, keep the paused copy
    /// if the hand-over is uncertain, otherwise keep saying what went wrong (until the next attempt starts) and wait
    /// for the next one.
    /// </summary>
    private void OnIncomingFinished(MigrationDestination destination)
    {
        bool arrived;
        lock (gate)
        {
            if (incoming == destination) incoming = null;
            var info = IncomingInfo(destination);
            switch (destination.State)
            {
                case DestinationState.Completed:
                    TakeOverArrivedGuest(destination.Machine!);
                    break;
                case DestinationState.PostcopyActive or DestinationState.PostcopyPaused or DestinationState.PostcopyRecover:
                    // Post-copy failed after the switch: the guest is here, paused, some pages still on the source.
                    runState = destination.Machine!.State == MachineRunState.Running ? RunState.Running : RunState.Paused;
                    note = info.ErrorDesc;
                    break;
                case DestinationState.HandOverUncertain:
                    machine = destination.Machine!;
                    machine.Faulted += OnFault;
                    runState = RunState.Paused;
                    note = info.ErrorDesc;
                    break;
            }
            lastIncoming = info;
            arrived = machine is not null;
            CloseRecoveryListener();
        }
        if (arrived)
        {
            incomingMigrations?.Dispose();
            incomingListener?.Dispose();
        }
        destination.Dispose();
        if (arrived && RunState == RunState.Running) Raise(VmEvent.Resume());
        else if (!arrived && !incomingCancel.IsCancellationRequested) Log?.Invoke($"still waiting for an incoming migration on {IncomingAddress}");
    }

    /// <summary>Makes the guest that arrived this VM host's running machine; once only. Call with the gate held.</summary>
    private void TakeOverArrivedGuest(IVirtualMachine arrived)
    {
        if (ReferenceEquals(machine, arrived)) return;
        machine = arrived;
        machine.Faulted += OnFault;
        runState = RunState.Running;
    }

    private void OnIncomingEvent(MigrationEvent e)
    {
        switch (e)
        {
            case MigrationGuestResumed resumed:
                // The guest runs here from now on: say so at once, not when the destination has finished telling
                // the source (it first waits up to a second for the guest's first heartbeat).
                lock (gate)
                {
                    TakeOverArrivedGuest(resumed.Machine);
                    arrivedFrom = incoming;
                }
                break;
            case MigrationGuestHeld held:
                // Before the status turns postcopy-paused: whoever sees that status sees the guest paused too.
                lock (gate)
                {
                    if (runState == RunState.Running) runState = RunState.Paused;
                    note = held.Reason;
                }
                Raise(VmEvent.Stop());
                break;
            case MigrationGuestReleased:
                lock (gate)
                {
                    if (runState == RunState.Paused) runState = RunState.Running;
                    note = null;
                }
                Raise(VmEvent.Resume());
                break;
            case MigrationStatusChanged s when Settings.IsEnabled(MigrationCapability.Events):
                Raise(VmEvent.Migration(s.Status));
                break;
            case MigrationLog l:
                Log?.Invoke(l.Text);
                break;
        }
    }

    private void CancelAll()
    {
        var (o, i) = CurrentMigrations();
        incomingCancel.Cancel();
        incomingMigrations?.Dispose();
        i?.Cancel();
        incomingListener?.Dispose();
        o?.Cancel();
        o?.Abandon(); // a paused post-copy would otherwise wait for a resume that will not come
        outgoingRun?.Wait(TimeSpan.FromSeconds(10));
        i?.Completion.Wait(TimeSpan.FromSeconds(10));
        o?.Dispose();
    }
}
