using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;
using Tern.Migration.Engine;

namespace Tern.Migration.Engine.Source;

internal sealed partial class SourceSession
{
    /// <summary>Orders a cancel against the commit: a cancel either comes before Commit is written or is refused.</summary>
    private readonly object commitGate = new();
    private bool commitWritten;

    /// <summary>
    /// Stops the guest, sends the last dirty pages and the device state, then hands the VM over in two steps: the
    /// destination confirms it holds everything (Ready), the source commits (Commit) and the destination resumes
    /// (Resumed). Until Commit is sent any failure resumes the guest here; after it, a failure leaves both sides
    /// paused (<see cref="HandOverUncertainException"/>).
    /// </summary>
    /// <param name="finalPassStarted">The final pass was announced already (a plan made it final as it started).</param>
    private void Switchover(bool finalPassStarted)
    {
        var tracker = machine.DirtyTracker;
        Event?.Invoke(new MigrationSwitchoverStarted());
        long lastBeatBeforePause = machine.Heartbeats.LastBeatUnixNs;
        counters.GuestPaused = true;
        long pausedAt = Stopwatch.GetTimestamp();
        pausedForSwitchover = machine.State == MachineRunState.Running;
        // From here until Commit is written the guest is stopped on the source: the downtime limit, with a margin,
        // bounds that stretch, whatever the destination does (stops reading, never answers).
        using var deadline = StartSwitchoverDeadline(pausedAt);
        var pauseTook = machine.Pause();
        var phases = new SwitchoverTimeline(pausedAt);
        phases.Mark($"pause ({pauseTook.TotalMilliseconds:0.0} ms)");
        if (machine.Fault is { } fault) throw new InvalidOperationException($"the guest faulted on the source, not migrating it: {fault}");

        bool verify = settings.IsEnabled(MigrationCapability.Verify);
        if (verify && (negotiated & ProtocolCapability.Verify) == 0)
            throw new InvalidOperationException("x-verify is on but the destination does not support verification");
        // The guest is paused and nothing else writes its RAM here, so the digest is taken on the other core while
        // the last pages go out, instead of adding all of its time to the downtime after them.
        var digesting = verify ? Task.Run(DigestOfRam) : null;
        try
        {
            if (!finalPassStarted)
            {
                pass++;
                Event?.Invoke(new MigrationPassStarted(pass));
            }
            switchoverStep = "syncing the last dirty pages";
            SyncDirtyPages(tracker);
            phases.Mark("final sync");
            var plan = PlanPass(pass, latest: null, syncPeriod: null, final: true);
            if (plan.Action == PassAction.Abort) throw new PassPlanAbortException(plan.Reason);
            switchoverStep = "sending the final pass";
            SendPass(final: true, plan.Encoding);
            phases.Mark("final pass");
            RecordPass(PassReportOf(null), "complete", plan.Reason);
            tracker.Stop();

            switchoverStep = "sending the device state";
            channels[0].Send(OutgoingFrame.Copy(MessageType.DeviceState, machine.SaveState()));
            phases.Mark("device state");
        }
        finally
        {
            // Also when the last pages failed to go out: the guest then resumes here, and no hash may still be
            // reading its RAM (nor a disposed machine's unmapped RAM).
            digesting?.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
        }
        ulong digest = digesting?.GetAwaiter().GetResult() ?? 0;
        if (verify) phases.Mark("digest");
        // Everything before Complete is handed to the kernel first: a Ready read from now on answers a Complete that is
        // on its way, and one read before is a lie (the destination cannot hold what was not sent yet).
        foreach (var c in channels) c.WaitUntilSent();
        var payload = new PayloadWriter();
        new CompleteMessage((ulong)counters.PagesSent, verify, digest).Write(payload);
        AwaitReturnPathJudged();
        lock (commitGate) handOver.CompleteSent();
        switchoverStep = "sending Complete";
        channels[0].Send(MessageType.Complete, payload);
        foreach (var c in channels) c.WaitUntilSent();

        phases.Mark("sent");
        switchoverStep = "waiting for the destination's Ready";
        var confirmation = Await(ready.Task, "the destination to confirm it holds everything");
        switchoverStep = "committing";
        phases.Mark("ready");
        if (verify)
        {
            var result = new VerificationResult(confirmation.HasDigest && confirmation.Digest == digest, digest, confirmation.Digest, (long)confirmation.PagesCompared);
            lock (gate) verification = result;
            if (!result.Matched)
                throw new InvalidOperationException($"verification failed: guest RAM digest 0x{digest:x16} on the source, 0x{confirmation.Digest:x16} on the destination");
            Log($"verified: {result.PagesCompared} pages, XXH3 0x{digest:x16} on both sides");
        }
        Event?.Invoke(new MigrationDestinationReady());

        Commit();

        ResumedMessage done;
        try
        {
            done = resumed.Task.Wait(ReplyTimeout) ? resumed.Task.Result
                : throw new TimeoutException($"no confirmation within {ReplyTimeout.TotalSeconds:0} s");
        }
        catch (Exception e)
        {
            throw new HandOverUncertainException(
                $"the hand-over was committed but the destination did not confirm it ({Describe(e.InnerException ?? e)}): " +
                "both sides are paused; check the destination and run `cont` on the side that should keep the VM", e);
        }

        phases.Mark("resumed");
        Log($"switchover: {phases}");
        lock (gate)
        {
            downtimeMs = (long)Stopwatch.GetElapsedTime(pausedAt).TotalMilliseconds;
            if (done.FirstHeartbeatUnixNs > 0 && lastBeatBeforePause > 0)
                guestDowntimeMs = Math.Max(0, (done.FirstHeartbeatUnixNs - lastBeatBeforePause) / 1_000_000);
        }
    }

    /// <summary>
    /// Step two of the hand-over. Before the first byte of Commit is written the VM is still the source's: a cancel or
    /// a failure up to that point throws an ordinary error, and the guest resumes here. From then on the destination
    /// may be running it, so a failure is <see cref="HandOverUncertainException"/> and a cancel is refused.
    /// Commit is written here on the migration thread, not queued to the channel writer, so that "written or not" is
    /// known exactly.
    /// </summary>
    private void Commit()
    {
        // Every earlier frame was handed to the kernel (WaitUntilSent before Ready): stop the writer so nothing else
        // can interleave with Commit on the main connection.
        if (!channels[0].Stop(TimeSpan.FromSeconds(2)))
            throw new IOException("the main connection's writer is stuck; not committing the hand-over");
        lock (commitGate)
        {
            // A failure elsewhere (the return path, a writer, the switchover deadline) cancels the token too, under
            // this lock when it must stop the commit; the caller reports which.
            cancel.Token.ThrowIfCancellationRequested();
            handOver.CommitWritten();
            Volatile.Write(ref commitWritten, true);
        }
        try
        {
            main!.Write(MessageType.Commit, ReadOnlySpan<byte>.Empty);
            main.Flush();
        }
        catch (Exception e)
        {
            throw new HandOverUncertainException(
                $"the link failed while committing the hand-over ({Describe(e)}): both sides are paused; " +
                "run `cont` on the side that should keep the VM", e);
        }
    }

    /// <summary>
    /// Lets the return path judge whatever the destination has already sent before Complete goes out: such a message
    /// (a Ready, a Resumed) was sent before the destination could have seen Complete, and must be judged as that, not
    /// taken for the answer to it because the reader ran late. An Error is read and fails the migration as usual.
    /// </summary>
    private void AwaitReturnPathJudged()
    {
        var spin = new SpinWait();
        while (main!.HasUnreadBytes || Interlocked.Read(ref returnPathBytesJudged) != main.BytesRead)
        {
            cancel.Token.ThrowIfCancellationRequested();
            spin.SpinOnce();
        }
    }

    /// <summary>What the switchover is doing, for the error when the deadline passes.</summary>
    private volatile string switchoverStep = "pausing the guest";

    /// <summary>Arms the timer that takes the VM back if Commit is not written within the limit plus its margin.</summary>
    private Timer StartSwitchoverDeadline(long pausedAt)
    {
        long limitMs = settings.Parameters.DowntimeLimitMs;
        TimeSpan? predicted;
        lock (gate) predicted = expectedDowntimeMs >= 0 ? TimeSpan.FromMilliseconds(expectedDowntimeMs) : null;
        bool verify = settings.IsEnabled(MigrationCapability.Verify);
        var margin = SwitchoverDeadline.Margin(limitMs, predicted, verify, machine.Memory.Size);
        var due = TimeSpan.FromMilliseconds(limitMs) + margin - Stopwatch.GetElapsedTime(pausedAt);
        return new Timer(_ => AbandonSwitchover(pausedAt, limitMs, margin), null,
            due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The deadline passed with the guest still paused: unless Commit is already written, the switchover is abandoned
    /// (under the commit lock, so the two cannot cross) and the migration fails; the guest then resumes here.
    /// </summary>
    private void AbandonSwitchover(long pausedAt, long limitMs, TimeSpan margin)
    {
        lock (commitGate)
        {
            // Committed: the VM may be the destination's now. Already stopping (a cancel, another failure): that cause
            // is the one to report.
            if (commitWritten || cancel.IsCancellationRequested) return;
            Fail(new TimeoutException(
                $"the destination did not confirm within the downtime limit ({limitMs} ms + {margin.TotalMilliseconds:0} ms margin): " +
                $"after {Stopwatch.GetElapsedTime(pausedAt).TotalMilliseconds:0} ms the source was still {switchoverStep}"));
        }
    }

    private T Await<T>(Task<T> task, string what)
    {
        try
        {
            if (!task.Wait(ReplyTimeout, cancel.Token))
                throw new TimeoutException($"no reply within {ReplyTimeout.TotalSeconds:0} s while waiting for {what}");
            return task.Result;
        }
        catch (AggregateException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    /// <summary>XXH3-64 of all guest RAM (the guest is paused).</summary>
    private ulong DigestOfRam() => RamDigests.Compute(machine.Memory).Digest;
}
