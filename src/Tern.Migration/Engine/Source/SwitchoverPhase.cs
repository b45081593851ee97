using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// Stops the guest, sends the last dirty pages and the device state, says Complete and waits for the destination to
/// confirm it holds everything (Ready, verified when verifying). The VM is still the source's throughout: any failure
/// resumes the guest here. The switchover deadline armed at the pause runs on into the hand-over, until Commit.
/// </summary>
/// <param name="finalPassStarted">The final pass was announced already (a plan made it final as it started).</param>
internal sealed class SwitchoverPhase(SourceSession session, bool finalPassStarted) : SourcePhase(session)
{
    public override SourcePhase? Run()
    {
        var s = Session;
        var machine = s.Machine;
        var tracker = machine.DirtyTracker;
        HandOverWarmUp.WaitForSource(TimeSpan.FromSeconds(1));
        // The pause should wait only for the final pass, not for a backlog of the passes before it.
        s.AwaitDestinationCaughtUp(finalPassStarted ? s.Pass - 1 : s.Pass);
        s.Raise(new MigrationSwitchoverStarted());
        long lastBeatBeforePause = machine.Heartbeats.LastBeatUnixNs;
        s.Counters.GuestPaused = true;
        long pausedAt = Stopwatch.GetTimestamp();
        long pausedUnixNs = HeartbeatMonitor.NowUnixNanoseconds();
        s.PausedForSwitchover = machine.State == MachineRunState.Running;
        // From here until Commit is written the guest is stopped on the source: the downtime limit, with a margin,
        // bounds that stretch, whatever the destination does (stops reading, never answers).
        var deadline = s.StartSwitchoverDeadline(pausedAt);
        try
        {
            var timeline = new SwitchoverTimeline(pausedAt);
            s.Timeline = timeline;
            ulong digest = SendTheRest(timeline);
            AwaitReady(digest, timeline);
            return new HandOverPhase(s, deadline, pausedAt, pausedUnixNs, lastBeatBeforePause, timeline);
        }
        catch
        {
            deadline.Dispose();
            throw;
        }
    }

    /// <summary>Pauses the guest and sends the final pass and the device state; returns the RAM digest (0 without x-verify).</summary>
    private ulong SendTheRest(SwitchoverTimeline timeline)
    {
        var s = Session;
        var machine = s.Machine;
        var tracker = machine.DirtyTracker;
        machine.Pause();
        s.LiftBandwidthLimit();
        timeline.Mark(SwitchoverStep.Pause);
        if (machine.Fault is { } fault) throw new InvalidOperationException($"the guest faulted on the source, not migrating it: {fault}");

        bool verify = s.Settings.IsEnabled(MigrationCapability.Verify);
        if (verify && (s.Negotiated & ProtocolCapability.Verify) == 0)
            throw new InvalidOperationException("x-verify is on but the destination does not support verification");
        // The guest is paused and nothing else writes its RAM here, so the digest is taken on the other core while
        // the last pages go out, instead of adding all of its time to the downtime after them.
        var digesting = verify ? Task.Run(() => RamDigests.Compute(machine.Memory).Digest) : null;
        // Likewise the device state: the vCPUs are stopped, so their state is final now. Captured on their own threads
        // while this one syncs and sends the last pages, it is ready when they have gone instead of starting then.
        var capturing = Task.Run(machine.SaveState);
        try
        {
            if (!finalPassStarted)
            {
                s.Pass++;
                s.Raise(new MigrationPassStarted(s.Pass));
            }
            s.SwitchoverStep = "syncing the last dirty pages";
            s.SyncDirtyPages(tracker, last: true);
            timeline.Mark(SwitchoverStep.FinalSync);
            var plan = s.PlanPass(s.Pass, latest: null, syncPeriod: null, final: true);
            if (plan.Action == PassAction.Abort) throw new PassPlanAbortException(plan.Reason);
            s.SwitchoverStep = "sending the final pass";
            s.SendPass(final: true, plan.Encoding);
            timeline.Mark(SwitchoverStep.FinalPass);
            s.RecordPass(s.PassReportOf(null), "complete", plan.Reason);

            s.SwitchoverStep = "sending the device state";
            s.MainChannel.Send(OutgoingFrame.Copy(MessageType.DeviceState, capturing.GetAwaiter().GetResult()));
            timeline.Mark(SwitchoverStep.DeviceState);
        }
        finally
        {
            // Also when the last pages failed to go out: the guest then resumes here, and no hash may still be
            // reading its RAM (nor a disposed machine's unmapped RAM), nor a capture still reading its vCPUs.
            digesting?.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
            capturing.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
        }
        ulong digest = digesting?.GetAwaiter().GetResult() ?? 0;
        if (verify) timeline.Mark(SwitchoverStep.Digest);
        return digest;
    }

    /// <summary>Says Complete and waits for the destination's Ready, and with x-verify compares the digests.</summary>
    private void AwaitReady(ulong digest, SwitchoverTimeline timeline)
    {
        var s = Session;
        bool verify = s.Settings.IsEnabled(MigrationCapability.Verify);
        // Everything before Complete is handed to the kernel first: a Ready read from now on answers a Complete that is
        // on its way, and one read before is a lie (the destination cannot hold what was not sent yet).
        s.WaitUntilAllSent();
        s.AwaitReturnPathJudged();
        var payload = new PayloadWriter();
        new CompleteMessage((ulong)s.Counters.PagesSent, verify, digest, s.CompleteSent()).Write(payload);
        s.SwitchoverStep = "sending Complete";
        s.MainChannel.Send(MessageType.Complete, payload);
        s.WaitUntilAllSent();
        // Nothing but Commit (or an Error) goes on the main connection after Complete: its writer thread can end now,
        // while Complete and Ready cross the link, rather than at the commit, inside the stop.
        s.MainChannel.StopTaking();

        timeline.Mark(SwitchoverStep.Sent);
        s.SwitchoverStep = "waiting for the destination's Ready";
        var confirmation = s.Await(s.ReadyTask, "the destination to confirm it holds everything");
        s.SwitchoverStep = "committing";
        timeline.Mark(SwitchoverStep.Ready);
        if (verify)
        {
            var result = new VerificationResult(confirmation.HasDigest && confirmation.Digest == digest, digest, confirmation.Digest, (long)confirmation.PagesCompared);
            s.Verification = result;
            if (!result.Matched)
                throw new InvalidOperationException($"verification failed: guest RAM digest 0x{digest:x16} on the source, 0x{confirmation.Digest:x16} on the destination");
            s.Log($"verified: {result.PagesCompared} pages, XXH3 0x{digest:x16} on both sides");
        }
        s.Raise(new MigrationDestinationReady());
    }
}
