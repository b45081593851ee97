using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine.Postcopy;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// Post-copy: pauses the guest, tells the destination which pages it holds stale (PostcopyBegin) and sends the device
/// state and Complete; the destination discards those pages, registers them as missing, restores the state and answers
/// Ready. The commit point is exactly pre-copy's (Commit's first byte): before it any failure resumes the guest here.
/// After it the guest runs on the destination, which asks for the pages it faults on over the urgent lane
/// (<see cref="UrgentPageLane"/>) while this phase streams the rest in the background (<see cref="BackgroundPageStream"/>),
/// until the destination says every page has arrived (PostcopyDone). The source's RAM no longer changes after the
/// pause, so it keeps every page until then; a failure after Commit leaves both sides paused.
/// </summary>
internal sealed class PostcopyPhase(SourceSession session) : SourcePhase(session)
{
    public override SourcePhase? Run()
    {
        var s = Session;
        var machine = s.Machine;
        s.EnterPostcopy();
        // Outside the pause: the destination drops what is stale already, so the pause only drops what is dirtied since.
        if (s.DropStalePagesAhead() is { } ahead)
            s.Log($"ahead of the pause the destination prepared for post-copy in {ahead.Took.TotalMilliseconds:0.0} ms ({ahead.Dropped} of {ahead.Named} stale pages dropped there)");
        s.Raise(new MigrationSwitchoverStarted());
        // The lane is connected before the pause: restoring the state on the destination may already fault.
        using var laneConnection = s.OpenUrgentLane();
        long lastBeatBeforePause = machine.Heartbeats.LastBeatUnixNs;
        s.Counters.GuestPaused = true;
        long pausedAt = Stopwatch.GetTimestamp();
        long pausedUnixNs = HeartbeatMonitor.NowUnixNanoseconds();
        s.PausedForSwitchover = machine.State == MachineRunState.Running;
        var timeline = new SwitchoverTimeline(pausedAt);
        s.Timeline = timeline;
        UrgentPageLane? lane = null;
        try
        {
            PostcopyPagesLeft left;
            using (var deadline = s.StartSwitchoverDeadline(pausedAt))
            {
                left = SendSwitch(timeline);
                lane = new UrgentPageLane(laneConnection, machine.Memory, left, s.Counters, s.UrgentLaneFailed, s.PostcopyDigest);
                lane.Start();
                s.SwitchoverStep = "waiting for the destination's Ready (post-copy)";
                s.Await(s.ReadyTask, "the destination to confirm it is ready to run the guest in post-copy");
                timeline.Mark(SwitchoverStep.Ready);
                s.SwitchoverStep = "committing";
                Commit(s);
            }
            long committedAt = Stopwatch.GetTimestamp();
            // As in pre-copy: switching dirty logging off takes milliseconds on KVM, after the stop rather than in it.
            s.StopTracking();
            if (AwaitResumed(s) is { } done)
            {
                // As in pre-copy: the destination's wait for the first heartbeat, with the guest running, is not downtime.
                var held = TimeSpan.FromMilliseconds(done.HeldNs / 1e6);
                var stopped = SwitchoverDowntime.Estimate(Stopwatch.GetElapsedTime(pausedAt, committedAt), Stopwatch.GetElapsedTime(pausedAt, s.ResumedArrivedAt),
                    held, pausedUnixNs, done.ResumedUnixNs);
                timeline.Mark(SwitchoverStep.Resumed, TimeSpan.Zero, pausedAt + (long)(stopped.TotalSeconds * Stopwatch.Frequency));
                s.Log($"post-copy switch: {timeline}; {left.StaleCount} pages to fetch on demand or in the background");
                s.RecordDowntime((long)stopped.TotalMilliseconds,
                    done.FirstHeartbeatUnixNs > 0 && lastBeatBeforePause > 0 ? Math.Max(0, (done.FirstHeartbeatUnixNs - lastBeatBeforePause) / 1_000_000) : -1);
            }
            else
            {
                s.Log($"post-copy switch: {timeline}; the link broke after Commit, before the destination confirmed the resume: " +
                    "the migration pauses for a recovery (the downtime is not known)");
            }
            s.StatusCell.TryTransition(MigrationStatus.Active, MigrationStatus.PostcopyActive);
            s.PostcopyDigest?.StartHeldPages();
            var link = new PostcopyLink(s.MainConnection, s.PostcopyDoneTask);
            link.Own(lane);
            lane = null; // the link's now
            s.UsePostcopyLink(link);
            RunUntilDone(s, link, left);
            return null;
        }
        finally
        {
            lane?.Dispose();
            s.PostcopyDigest?.Dispose();
        }
    }

    /// <summary>
    /// Streams the rest until the destination has every page; a broken link pauses the migration (nothing is lost)
    /// until the operator resumes it on a new connection, as often as it takes.
    /// </summary>
    private static void RunUntilDone(SourceSession s, PostcopyLink link, PostcopyPagesLeft left)
    {
        long staleAtSwitch = left.StaleCount;
        var recovery = new PostcopyRecovery(s);
        try
        {
            while (true)
            {
                try
                {
                    StreamTheRest(s, link, left, staleAtSwitch);
                    return;
                }
                catch (PostcopyLinkBrokenException broken)
                {
                    link.Dispose();
                    (link, left) = recovery.Recover(broken.Message, left);
                }
            }
        }
        catch (OperationCanceledException e) when (s.Cancellation.IsCancellationRequested)
        {
            throw new HandOverUncertainException(
                $"post-copy ended while paused or recovering with {left.Left} of {staleAtSwitch} pages not yet confirmed at the destination: " +
                "the guest is paused here and every page is kept, but the destination runs the guest and waits for its missing pages; do not resume it here", e);
        }
        finally
        {
            link.Dispose();
        }
    }

    /// <summary>Pauses the guest, syncs, and sends PostcopyBegin (the stale pages) and the device state.</summary>
    private PostcopyPagesLeft SendSwitch(SwitchoverTimeline timeline)
    {
        var s = Session;
        var machine = s.Machine;
        machine.Pause();
        timeline.Mark(SwitchoverStep.Pause);
        if (machine.Fault is { } fault) throw new InvalidOperationException($"the guest faulted on the source, not migrating it: {fault}");
        // The vCPUs are stopped, so their state is final: captured on their own threads while this one syncs and names
        // the stale pages, as in pre-copy, instead of after.
        var capturing = Task.Run(machine.SaveState);
        try
        {
            s.SwitchoverStep = "syncing the last dirty pages";
            s.SyncDirtyPages(machine.DirtyTracker, last: true);
            var stale = s.TakeStalePages();
            s.PostcopyDigest = s.VerifiesPostcopy ? new PostcopySourceDigest(machine.Memory, stale) : null;
            timeline.Mark(SwitchoverStep.FinalSync);
            var payload = new PayloadWriter();
            new PostcopyBeginMessage(stale.PageCount, stale).Write(payload);
            s.SwitchoverStep = "sending the stale pages and the device state";
            s.MainChannel.Send(MessageType.PostcopyBegin, payload);
            // As in pre-copy, Complete follows the device state and the destination answers it with Ready, possibly
            // before this thread gets back from handing it to the kernel. So everything before it is handed over and
            // judged first, and a Ready read from then on answers it if it echoes Complete's token (marking Complete as
            // sent only after the send let such a quick Ready be taken for a lie, failing 1 in 6 KVM post-copy runs under
            // load). Its record count is the passes' (the urgent lane has not started); the digest comes with
            // PostcopyDone instead.
            s.WaitUntilAllSent();
            s.AwaitReturnPathJudged();
            var complete = new PayloadWriter();
            new CompleteMessage((ulong)s.Counters.PagesSent, false, 0, s.CompleteSent()).Write(complete);
            s.MainChannel.Send(OutgoingFrame.Copy(MessageType.DeviceState, capturing.GetAwaiter().GetResult()));
            s.MainChannel.Send(MessageType.Complete, complete);
            s.WaitUntilAllSent();
            timeline.Mark(SwitchoverStep.DeviceState);
            return new PostcopyPagesLeft(stale);
        }
        finally
        {
            // Also on a failure: the guest then resumes here, and no capture may still be reading its vCPUs.
            capturing.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
        }
    }

    /// <summary>
    /// Writes Commit. Once its first byte is written the guest may be the destination's: a link that fails while it is
    /// written breaks the post-copy link (a recovery finishes the migration) instead of ending it uncertain.
    /// </summary>
    private static void Commit(SourceSession s)
    {
        try
        {
            s.Commit();
        }
        catch (HandOverUncertainException e)
        {
            s.BreakPostcopyLink($"the link failed while Commit was written ({SourceSession.Describe(e.InnerException ?? e)})");
        }
    }

    /// <summary>
    /// The destination's Resumed, or null when the link broke first or it did not come within the reply timeout: the
    /// link is then broken (the destination may have resumed the guest, or may never have read Commit), and the
    /// migration pauses for a recovery, which finishes it either way.
    /// </summary>
    private static ResumedMessage? AwaitResumed(SourceSession s)
    {
        var resumed = s.ResumedTask;
        try
        {
            if (resumed.Wait(s.ReplyTimeout)) return resumed.Result;
            s.BreakPostcopyLink($"the destination did not confirm the resume within {s.ReplyTimeout.TotalSeconds:0} s of Commit");
        }
        catch (Exception e) when (e is AggregateException or IOException or OperationCanceledException)
        {
            s.BreakPostcopyLink($"the link failed after Commit, before the destination confirmed the resume ({SourceSession.Describe(e.InnerException ?? e)})");
        }
        return null;
    }

    /// <summary>
    /// Streams every page not yet sent, then PostcopyStreamEnd, and waits for PostcopyDone. A broken link (or one that
    /// stays silent) throws <see cref="PostcopyLinkBrokenException"/> naming the cause; the session's own cancellation
    /// (the host shuts down) and a verification failure end the migration, with the guest paused here.
    /// </summary>
    private static void StreamTheRest(SourceSession s, PostcopyLink link, PostcopyPagesLeft left, long staleAtSwitch)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(s.Cancellation.Token, link.Broken);
        try
        {
            s.PaceForPostcopy();
            var stream = new BackgroundPageStream(link.Main, s.Machine.Memory, left, s.Limiter, s.Counters, s.PostcopyDigest);
            stream.Run(stop.Token, () => link.Done.IsCompleted);
            var done = link.Done;
            try
            {
                if (!done.Wait(s.ReplyTimeout, stop.Token))
                    link.Break($"every page was sent, but the destination did not confirm their arrival within {s.ReplyTimeout.TotalSeconds:0} s");
            }
            catch (AggregateException e) when (e.InnerException is not null)
            {
                link.Break($"the main connection failed ({SourceSession.Describe(e.InnerException)})");
            }
            if (link.Reason is { } why) throw new PostcopyLinkBrokenException(why);
            s.Log($"post-copy complete: {staleAtSwitch} pages were stale at the switch, {stream.PagesSent} sent in the background on the last link; " +
                $"the destination holds {done.Result.PagesReceived} pages");
            s.VerifyPostcopy(done.Result);
        }
        catch (VerificationFailedException e)
        {
            throw new HandOverUncertainException(e.Message, e);
        }
        catch (Exception e) when (e is not PostcopyLinkBrokenException && !s.Cancellation.IsCancellationRequested)
        {
            // The destination closes every connection once it holds every page: a write may meet that close first.
            if (link.Reason is null && WaitDone(link))
            {
                try
                {
                    s.VerifyPostcopy(link.Done.Result);
                }
                catch (VerificationFailedException v)
                {
                    throw new HandOverUncertainException(v.Message, v);
                }
                return;
            }
            link.Break($"the main connection failed ({SourceSession.Describe(e)})");
            throw new PostcopyLinkBrokenException(link.Reason!);
        }
    }

    private static bool WaitDone(PostcopyLink link)
    {
        try
        {
            return link.Done.Wait(SourceSession.DoneGrace);
        }
        catch (AggregateException)
        {
            return false;
        }
    }
}

/// <summary>The post-copy link broke (the message says how): the migration pauses, it does not fail.</summary>
internal sealed class PostcopyLinkBrokenException(string reason) : Exception(reason);

/// <summary>The digests of a post-copy migration differ.</summary>
internal sealed class VerificationFailedException(string message) : Exception(message);
