using System.Diagnostics;
using Tern.Control.Progress;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;

namespace Tern.Control.Host;

/// <summary>
/// Measures how much an outgoing migration slows the guest, from the guest's own progress counters: a timer reads
/// them every <see cref="ProgressSamplePeriod"/>, and the migration's start and switchover read them too (so the
/// windows end exactly there, however short the migration); a <see cref="GuestProgressTracker"/> turns the readings
/// into what <c>query-migrate</c> reports (<c>x-guest-progress-before</c>, <c>-during</c>, <c>x-guest-slowdown</c>).
/// </summary>
public sealed partial class VmHost
{
    /// <summary>How often the guest's counters are read: often enough for a migration of a second to have a "during" window.</summary>
    public static readonly TimeSpan ProgressSamplePeriod = TimeSpan.FromMilliseconds(100);

    private Timer? progressTimer;
    private IVirtualMachine? progressMachine;
    private GuestCounterReader? progressReader;
    private GuestProgressTracker? progressTracker;
    private MigrationSource? progressSource;

    private void StartProgressSampling() =>
        progressTimer = new Timer(_ => SampleProgress(), null, ProgressSamplePeriod, ProgressSamplePeriod);

    /// <summary>Stops the timer and waits for a reading already under way (Timer.Dispose() alone does not wait for it).</summary>
    private void StopProgressSampling()
    {
        if (progressTimer is null) return;
        using var sampled = new ManualResetEvent(false);
        if (progressTimer.Dispose(sampled)) sampled.WaitOne();
    }

    private void SampleProgress()
    {
        // Never wait for the host's lock: it can be held for a while (a guest check, a migration starting), and a
        // reading skipped is harmless.
        if (!Monitor.TryEnter(gate)) return;
        Exception? failed = null;
        try
        {
            SettleOutgoing();
            RecordProgress();
        }
        catch (Exception e)
        {
            failed = e;
        }
        finally
        {
            Monitor.Exit(gate);
        }
        if (failed is null) return;
        // An exception escaping a timer callback ends the process, and the VM with it. The figures are a measurement
        // only: sampling stops, and says why once (not ten times a second).
        try
        {
            progressTimer?.Change(Timeout.Infinite, Timeout.Infinite);
        }
        catch (ObjectDisposedException)
        {
            return; // the host is going away (it stopped the timer and waits for this reading): nothing to report to
        }
        Log?.Invoke($"guest progress sampling stopped (x-guest-progress and x-guest-slowdown no longer update): {failed.Message}");
    }

    /// <summary>Reads the guest's counters now and feeds the tracker. Call with the lock held.</summary>
    private void RecordProgress()
    {
        // Only the guest running here; during an incoming migration its pages may not all be here yet.
        if (machine is not { } m || incoming is not null || PagesMissingHere) return;
        if (!ReferenceEquals(m, progressMachine))
        {
            progressMachine = m;
            progressReader = GuestCounterReader.For(m.Description);
            progressTracker = progressReader is null ? null : new GuestProgressTracker(progressReader.MeasuredVcpus);
            progressSource = null;
        }
        if (progressReader is null || progressTracker is null) return;

        bool migrating = outgoing is { } o && !o.Status.IsFinished();
        if (migrating && !ReferenceEquals(outgoing, progressSource))
        {
            progressSource = outgoing;
            progressTracker.BeginMigration();
        }
        var reading = new ProgressReading(Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency, progressReader.Read(m.Memory));
        progressTracker.Observe(reading, runState == RunState.Running, migrating);
    }

    /// <summary>The outgoing migration's info with the guest's slowdown added, once measured. Call with the lock held.</summary>
    private MigrationInfo WithGuestSlowdown(MigrationSource source, MigrationInfo info) =>
        ReferenceEquals(source, progressSource) && progressTracker?.Result is { } slowdown ? info with { GuestSlowdown = slowdown } : info;
}
