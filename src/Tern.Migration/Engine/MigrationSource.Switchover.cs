using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

public sealed partial class MigrationSource
{
    /// <summary>
    /// Stops the guest, sends the last dirty pages and the device state, then hands the VM over in two steps: the
    /// destination confirms it holds everything (Ready), the source commits (Commit) and the destination resumes
    /// (Resumed). Until Commit is sent any failure resumes the guest here; after it, a failure leaves both sides
    /// paused (<see cref="HandOverUncertainException"/>).
    /// </summary>
    private void Switchover()
    {
        var tracker = machine.DirtyTracker;
        Event?.Invoke(new MigrationSwitchoverStarted());
        long lastBeatBeforePause = machine.Heartbeats.LastBeatUnixNs;
        counters.GuestPaused = true;
        long pausedAt = Stopwatch.GetTimestamp();
        pausedForSwitchover = machine.State == MachineRunState.Running;
        var pauseTook = machine.Pause();
        var phases = new SwitchoverTimeline(pausedAt);
        phases.Mark($"pause ({pauseTook.TotalMilliseconds:0.0} ms)");
        if (machine.Fault is { } fault) throw new InvalidOperationException($"the guest faulted on the source, not migrating it: {fault}");

        pass++;
        Event?.Invoke(new MigrationPassStarted(pass));
        SyncDirtyPages(tracker);
        phases.Mark("final sync");
        SendPass(final: true);
        phases.Mark("final pass");
        tracker.Stop();

        channels[0].Send(OutgoingFrame.Copy(MessageType.DeviceState, machine.SaveState()));
        phases.Mark("device state");
        bool verify = settings.IsEnabled(MigrationCapability.Verify);
        if (verify && (negotiated & ProtocolCapability.Verify) == 0)
            throw new InvalidOperationException("x-verify is on but the destination does not support verification");
        ulong digest = verify ? DigestOfRam() : 0;
        if (verify) phases.Mark("digest");
        var payload = new PayloadWriter();
        new CompleteMessage((ulong)counters.PagesSent, verify, digest).Write(payload);
        channels[0].Send(MessageType.Complete, payload);
        foreach (var c in channels) c.WaitUntilSent();

        phases.Mark("sent");
        var confirmation = Await(ready.Task, "the destination to confirm it holds everything");
        phases.Mark("ready");
        if (verify)
        {
            var result = new VerificationResult(confirmation.HasDigest && confirmation.Digest == digest, digest, confirmation.Digest, (long)confirmation.PagesCompared);
            lock (gate) verification = result;
            if (!result.Matched)
                throw new InvalidOperationException($"verification failed: guest RAM digest 0x{digest:x16} on the source, 0x{confirmation.Digest:x16} on the destination");
            Log($"verified: {result.PagesCompared} pages, XXH3 0x{digest:x16} on both sides");
        }

        try
        {
            payload.Reset();
            channels[0].Send(MessageType.Commit, payload);
            channels[0].WaitUntilSent();
        }
        catch (Exception e)
        {
            throw new HandOverUncertainException(
                $"the link failed while committing the hand-over ({Describe(failure ?? e)}): both sides are paused; " +
                "run `cont` on the side that should keep the VM", e);
        }

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
