using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Protocol;
using Tern.Migration.Throttle;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine;

/// <summary>
/// One outgoing migration: owns the connections, counters and decisions for its lifetime, and the machine while it
/// runs. The guest keeps running on this side until the destination confirms that it holds everything
/// (<see cref="MessageType.Ready"/>); only then does the source commit and give it up. Any failure before that
/// resumes the guest here. See docs/protocol.md for the sequence.
/// </summary>
public sealed partial class MigrationSource : IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultReplyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long the source waits for Welcome, and for Resumed after Commit (tests shorten it).</summary>
    internal TimeSpan ReplyTimeout { get; init; } = DefaultReplyTimeout;

    /// <summary>No write progress for this long means the destination stopped reading (tests shorten it).</summary>
    internal TimeSpan WriteStallLimit { get; init; } = WriteStallWatchdog.DefaultLimit;

    private readonly IVirtualMachine machine;
    private readonly MigrationSettings settings;
    private readonly RamCounters counters;
    private readonly TransferEstimator estimator = new();
    private readonly CancellationTokenSource cancel = new();
    private readonly object gate = new();
    private readonly long startedAt = Stopwatch.GetTimestamp();
    private MigrationStatus status = MigrationStatus.Setup;
    private string? errorText;
    private long setupMs = -1, totalMs = -1, expectedDowntimeMs = -1, downtimeMs = -1, guestDowntimeMs = -1;
    private bool converging = true;
    private bool pausedForSwitchover;
    private VerificationResult? verification;
    private Exception? failure;
    private MigrationOutcome outcome = MigrationOutcome.Running;
    private readonly ThrottleGovernor throttle;

    public MigrationSource(IVirtualMachine machine, MigrationSettings settings)
    {
        this.machine = machine;
        this.settings = settings;
        counters = new RamCounters(machine.Memory.Size);
        limiter = new BandwidthLimiter(settings.Parameters.MaxBandwidth);
        throttle = new ThrottleGovernor(machine);
        throttle.Changed += Log;
        settings.Changed += OnSettingsChanged;
    }

    /// <summary>Status changes, passes and decisions, raised on the migration thread.</summary>
    public event Action<MigrationEvent>? Event;

    public MigrationStatus Status { get { lock (gate) return status; } }

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
        SetStatus(MigrationStatus.Cancelling);
    }

    /// <summary>Runs the whole migration on a dedicated thread; the task ends (never faults) when it has finished.</summary>
    public Task RunAsync(MigrationUri destination) => RunAsync(destination.CreateTransport());

    /// <summary>As <see cref="RunAsync(MigrationUri)"/>, over a transport given directly (in-process, fault-injecting).</summary>
    public Task RunAsync(IMigrationTransport destination) =>
        Task.Factory.StartNew(() => Run(destination), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>A <c>query-migrate</c> snapshot.</summary>
    public MigrationInfo Info()
    {
        lock (gate)
        {
            bool finished = status.IsFinished();
            bool showRam = status is MigrationStatus.Active or MigrationStatus.Completed or MigrationStatus.Cancelling
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
                ErrorDesc = status is MigrationStatus.Failed or MigrationStatus.Cancelled ? errorText : null,
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
                    ? (long)((throttle.MaxPercent ?? 0) / 100.0 * Machine.ThrottleClock.Period.TotalMicroseconds) : null,
            };
        }
    }

    private void Run(IMigrationTransport destination)
    {
        // QEMU announces "setup" when a migration starts; the status starts there, so say it once here.
        if (Status == MigrationStatus.Setup) Event?.Invoke(new MigrationStatusChanged(MigrationStatus.Setup));
        try
        {
            Setup(destination);
            lock (gate) setupMs = (long)Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds;
            SetStatus(MigrationStatus.Active);
            Iterate();
            Switchover();
            Finish(MigrationStatus.Completed, null, MigrationOutcome.Completed);
        }
        catch (HandOverUncertainException e)
        {
            // The commit may have reached the destination: running the guest here could run it twice.
            Finish(MigrationStatus.Failed, e.Message, MigrationOutcome.HandOverUncertain);
        }
        catch (Exception e) when (Volatile.Read(ref commitWritten))
        {
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
    private void StopTracking()
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
        SetStatus(final);
        if (error is not null) Log(error);
    }

    /// <summary>Changes the status and raises the event outside the lock (handlers may call back into Info()).</summary>
    private void SetStatus(MigrationStatus next)
    {
        lock (gate)
        {
            if (status == next || status.IsFinished()) return;
            status = next;
        }
        Event?.Invoke(new MigrationStatusChanged(next));
    }

    private void Log(string text) => Event?.Invoke(new MigrationLog(text));

    /// <summary>Records the first failure (from any thread) and stops the migration.</summary>
    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref failure, e, null);
        cancel.Cancel();
    }

    private static string Describe(Exception e) => Unwrap(e) switch
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

    public void Dispose()
    {
        settings.Changed -= OnSettingsChanged;
        cancel.Cancel();
        Teardown();
        cancel.Dispose();
    }
}

/// <summary>How a migration ended, as far as the VM is concerned.</summary>
public enum MigrationOutcome
{
    Running,
    /// <summary>The destination runs the VM; the source has given it up.</summary>
    Completed,
    /// <summary>The migration failed or was cancelled before the hand-over: the VM runs on the source.</summary>
    SourceKeepsVm,
    /// <summary>The link failed between commit and confirmation: both sides are paused; <c>cont</c> on the one that should keep the VM.</summary>
    HandOverUncertain,
}

/// <summary>The destination reported an error over the return path.</summary>
public sealed class RemoteMigrationException(string message) : Exception(message);

/// <summary>The link failed after the commit was sent and before the destination confirmed it.</summary>
public sealed class HandOverUncertainException(string message, Exception? inner = null) : Exception(message, inner);
