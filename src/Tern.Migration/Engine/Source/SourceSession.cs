using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;
using Tern.Migration.Throttle;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// One outgoing migration's state, shared by its phases: the machine (owned while the migration runs), the
/// operator's settings, the counters, the connections, the pass history, the planner and the status. The phases
/// (setup, pre-copy, switchover, hand-over) work on it in turn; <see cref="MigrationSource"/> is its public face.
/// </summary>
internal sealed partial class SourceSession : IDisposable
{
    internal static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultReplyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long the source waits for Welcome, and for Resumed after Commit (tests shorten it).</summary>
    internal TimeSpan ReplyTimeout { get; set; } = DefaultReplyTimeout;

    /// <summary>No write progress for this long means the destination stopped reading (tests shorten it).</summary>
    internal TimeSpan WriteStallLimit { get; set; } = WriteStallWatchdog.DefaultLimit;

    private readonly IVirtualMachine machine;
    private readonly MigrationSettings settings;
    private readonly RamCounters counters;
    private readonly TransferEstimator estimator = new();
    private readonly CancellationTokenSource cancel = new();
    private readonly object gate = new();
    private readonly long startedAt = Stopwatch.GetTimestamp();
    private readonly MigrationStatusCell status = new();
    private string? errorText;
    private long setupMs = -1, totalMs = -1, expectedDowntimeMs = -1, downtimeMs = -1, guestDowntimeMs = -1;
    private bool converging = true;
    private bool pausedForSwitchover;
    private VerificationResult? verification;
    private Exception? failure;
    private MigrationOutcome outcome = MigrationOutcome.Running;
    private readonly ThrottleGovernor throttle;
    private readonly IPassPlanner planner;

    // What the phases read and change; the fields stay the session's.
    internal IVirtualMachine Machine => machine;
    internal MigrationSettings Settings => settings;
    internal object Gate => gate;
    internal long StartedAt => startedAt;
    internal MigrationStatusCell StatusCell => status;
    internal CancellationTokenSource Cancellation => cancel;
    internal ThrottleGovernor Throttle => throttle;
    internal ProtocolCapability Negotiated => negotiated;
    internal long SetupMs { set => setupMs = value; }
    internal bool PausedForSwitchover { set => pausedForSwitchover = value; }
    internal VerificationResult? Verification { set { lock (gate) verification = value; } }
    /// <summary>The switchover's steps so far, for query-migrate's x-switchover; null before the switchover.</summary>
    internal SwitchoverTimeline? Timeline { set { lock (gate) timeline = value; } }
    private SwitchoverTimeline? timeline;

    /// <summary>The downtime the operator saw (pause to Resumed) and the guest saw (its heartbeats; -1 unknown).</summary>
    internal void RecordDowntime(long downtime, long guestDowntime)
    {
        lock (gate)
        {
            downtimeMs = downtime;
            if (guestDowntime >= 0) guestDowntimeMs = guestDowntime;
        }
    }

    /// <param name="machine">The VM to migrate; the migration owns it while it runs.</param>
    /// <param name="settings">The operator's capabilities and parameters (changes apply from the next pass).</param>
    /// <param name="planner">Decides each pass (encodings, throttle, what next); null for <see cref="DefaultPassPlanner"/>. One per migration.</param>
    public SourceSession(IVirtualMachine machine, MigrationSettings settings, IPassPlanner? planner = null)
    {
        this.machine = machine;
        this.settings = settings;
        this.planner = planner ?? new DefaultPassPlanner();
        counters = new RamCounters(machine.Memory.Size);
        limiter = new BandwidthLimiter(settings.Parameters.MaxBandwidth);
        throttle = new ThrottleGovernor(machine, settings.DirtyLimits);
        throttle.Changed += Log;
        status.Changed += next => Event?.Invoke(new MigrationStatusChanged(next));
        settings.Changed += OnSettingsChanged;
    }

    /// <summary>Status changes, passes and decisions, raised on the migration thread.</summary>
    public event Action<MigrationEvent>? Event;

    public MigrationStatus Status => status.Current;

    /// <summary>How the migration ended, and so who has the VM; <see cref="MigrationOutcome.Running"/> until then.</summary>
    public MigrationOutcome Outcome { get { lock (gate) return outcome; } }

    public RamCounters Counters => counters;

    /// <summary>Asks the migration to stop; the guest stays (or resumes) on the source unless the hand-over was committed.</summary>
    public void Cancel()
    {
        if (Status.IsFinished()) return;
        bool tooLate;
        lock (commitGate)
        {
            tooLate = commitWritten;
            if (!tooLate) cancel.Cancel();
        }
        if (tooLate)
        {
            Log("cancel refused: the hand-over was already committed (the VM is the destination's now)");
            return;
        }
        // Whichever phase the migration is in; a migration that finished (or another cancel) in the meantime wins.
        if (!status.TryTransition(MigrationStatus.Setup, MigrationStatus.Cancelling))
            status.TryTransition(MigrationStatus.Active, MigrationStatus.Cancelling);
    }

    /// <summary>A <c>query-migrate</c> snapshot.</summary>
    public MigrationInfo Info()
    {
        lock (gate)
        {
            var status = this.status.Current;
            bool finished = status.IsFinished();
            bool showRam = status is MigrationStatus.Active or MigrationStatus.Completed or MigrationStatus.Cancelling
                or MigrationStatus.PostcopyActive or MigrationStatus.PostcopyPaused or MigrationStatus.PostcopyRecover
                || (status == MigrationStatus.Failed && counters.Transferred > 0);
            long total = finished && totalMs >= 0 ? totalMs : (long)Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds;
            return new MigrationInfo
            {
                Status = status,
                Ram = showRam ? counters.Snapshot() : null,
                XbzrleCache = XbzrleStats(),
                Compression = CompressionStats(),
                TotalTimeMs = total,
                SetupTimeMs = setupMs >= 0 ? setupMs : null,
                ExpectedDowntimeMs = status == MigrationStatus.Active && expectedDowntimeMs >= 0 ? expectedDowntimeMs : null,
                DowntimeMs = status == MigrationStatus.Completed && downtimeMs >= 0 ? downtimeMs : null,
                ErrorDesc = status is MigrationStatus.Failed or MigrationStatus.Cancelled ? errorText
                    : status is MigrationStatus.PostcopyPaused or MigrationStatus.PostcopyRecover ? pauseReason : null,
                GuestDowntimeMs = guestDowntimeMs >= 0 ? guestDowntimeMs : null,
                Verification = verification,
                Channels = channels.Count > 0 ? channelsInUse : null,
                ChannelBytes = channels.Count > 0 ? channels.Select(c => c.Connection.BytesWritten).ToList() : null,
                Converging = status == MigrationStatus.Active ? converging : null,
                CpuThrottlePercentage = throttle.MaxPercent,
                VcpuThrottlePercentages = throttle.MaxPercent is null ? null : throttle.PerVcpu,
                ThrottleReason = throttle.MaxPercent is null ? null : throttle.Reason,
                ThrottlePeak = throttle.MaxPercent is null ? null : throttle.Peak,
                DirtyLimitThrottleTimePerRoundUs = status == MigrationStatus.Active && settings.IsEnabled(MigrationCapability.DirtyLimit)
                    ? (long)((throttle.MaxPercent ?? 0) / 100.0 * Tern.Machine.ThrottleClock.Period.TotalMicroseconds) : null,
                DirtyLimitRingFullTimeUs = status == MigrationStatus.Active && settings.IsEnabled(MigrationCapability.DirtyLimit) ? throttle.RingFullTimeUs : null,
                Plan = latestPlan is { } latest ? PassPlanCheck.ToInfo(latest.Pass, latest.Plan) : null,
                Switchover = timeline?.Steps,
            };
        }
    }

    /// <summary>Runs the whole migration on the calling thread; returns (never throws) when it has finished.</summary>
    public void Run(IMigrationTransport destination)
    {
        // QEMU announces "setup" when a migration starts; the status starts there, so say it once here.
        if (Status == MigrationStatus.Setup) Event?.Invoke(new MigrationStatusChanged(MigrationStatus.Setup));
        try
        {
            SourcePhase? phase = new SetupPhase(this, destination);
            while (phase is not null) phase = phase.Run();
            Finish(MigrationStatus.Completed, null, MigrationOutcome.Completed);
        }
        catch (HandOverUncertainException e)
        {
            // The commit may have reached the destination: running the guest here could run it twice. The operator
            // may still `cont` it here, and then it must not run under dirty tracking.
            StopTracking();
            Finish(MigrationStatus.Failed, e.Message, MigrationOutcome.HandOverUncertain);
        }
        catch (Exception e) when (Volatile.Read(ref commitWritten))
        {
            StopTracking();
            // Only the waits after Commit throw HandOverUncertainException; anything else thrown that late must not
            // resume the guest here either.
            Finish(MigrationStatus.Failed, $"the hand-over was committed and then failed ({Describe(e)}): both sides are paused; " +
                "check the destination and run `cont` on the side that should keep the VM", MigrationOutcome.HandOverUncertain);
        }
        catch (Exception e)
        {
            bool cancelled = cancel.IsCancellationRequested && failure is null && !timedOut;
            // The guest first: Commit was not written, so the VM is this side's, and every moment it stays paused is
            // downtime. Finding the cause and telling the destination may wait on a dead link.
            ResumeGuestHere();
            StopTracking();
            string reason = cancelled ? "cancelled by the operator" : Describe(CauseOf(e));
            SendBestEffortError(cancelled ? ErrorMessage.Cancelled : ErrorMessage.Failed, reason);
            Finish(cancelled ? MigrationStatus.Cancelled : MigrationStatus.Failed,
                cancelled ? reason : $"{reason}; the VM keeps running on the source", MigrationOutcome.SourceKeepsVm);
        }
        finally
        {
            Teardown();
        }
    }

    /// <summary>Dirty tracking slows the guest (every first write after a sync faults): stop it once it is of no use.</summary>
    internal void StopTracking()
    {
        try
        {
            machine.DirtyTracker.Stop();
        }
        catch (Exception e)
        {
            Log($"could not stop dirty tracking: {e.Message}");
        }
    }

    /// <summary>Runs the guest here again if the switchover paused it (a guest the operator had paused stays paused).</summary>
    private void ResumeGuestHere()
    {
        throttle.Release();
        counters.GuestPaused = false;
        try
        {
            if (pausedForSwitchover && machine.State is MachineRunState.Paused) machine.Resume();
        }
        catch (Exception e)
        {
            Log($"could not resume the guest on the source: {e.Message}");
        }
    }

    private void Finish(MigrationStatus final, string? error, MigrationOutcome result)
    {
        throttle.Release();
        lock (gate)
        {
            totalMs = (long)Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds;
            errorText = error;
            // The outcome is visible no later than the final status, so whoever sees the status can act on it.
            outcome = result;
        }
        status.TryTransitionFromAny(final);
        if (error is not null) Log(error);
    }

    internal void Log(string text) => Event?.Invoke(new MigrationLog(text));

    /// <summary>Raises an event to whoever hosts the migration (on the calling thread, outside any lock).</summary>
    internal void Raise(MigrationEvent e) => Event?.Invoke(e);

    /// <summary>Records the first failure (from any thread) and stops the migration.</summary>
    internal void Fail(Exception e)
    {
        if (LinkOwnsFailures)
        {
            BreakPostcopyLink(Describe(e));
            return;
        }
        Interlocked.CompareExchange(ref failure, e, null);
        try
        {
            cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Reported after the session was disposed (a stall-watchdog or pass-timeout callback already running when
            // its timer was disposed, which does not wait for it): Dispose cancelled before disposing, so the session
            // has stopped already. Thrown on, it would escape that thread and end the process.
        }
    }

    internal static string Describe(Exception e) => Unwrap(e) switch
    {
        ProtocolException p => $"protocol error: {p.Message}",
        EndOfStreamException eos => $"the destination went away: {eos.Message}",
        IOException io => io.Message,
        RemoteMigrationException r => $"the destination reported: {r.Message}",
        AggregateException a => string.Join("; ", a.InnerExceptions.Select(Describe)),
        var other => other.Message,
    };

    /// <summary>The failure inside a task's wrapper: an operator should read the cause, not "One or more errors occurred".</summary>
    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        return e;
    }

    private int disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return; // a host shutting down twice
        settings.Changed -= OnSettingsChanged;
        cancel.Cancel();
        Teardown();
        cancel.Dispose();
    }
}
