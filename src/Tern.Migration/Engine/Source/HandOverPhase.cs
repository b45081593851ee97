using System.Diagnostics;
using Tern.Migration.Api;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// The last step: the source commits (Commit) and the destination resumes the guest (Resumed). Before the first byte
/// of Commit is written the VM is still the source's; from then on a failure leaves both sides paused
/// (<see cref="HandOverUncertainException"/>). Then the migration is done.
/// </summary>
/// <param name="deadline">The switchover deadline armed at the pause; it may still take the VM back until Commit.</param>
/// <param name="pausedUnixNs">The source's wall clock at the pause (<see cref="SwitchoverDowntime"/>).</param>
internal sealed class HandOverPhase(SourceSession session, Timer deadline, long pausedAt, long pausedUnixNs, long lastBeatBeforePause, SwitchoverTimeline timeline)
    : SourcePhase(session)
{
    public override SourcePhase? Run()
    {
        var s = Session;
        ResumedMessage done;
        long committedAt;
        using (deadline)
        {
            s.Commit();
            committedAt = Stopwatch.GetTimestamp();
            timeline.Mark(SwitchoverStep.Commit);
            try
            {
                var resumed = s.ResumedTask;
                done = resumed.Wait(s.ReplyTimeout) ? resumed.Result
                    : throw new TimeoutException($"no confirmation within {s.ReplyTimeout.TotalSeconds:0} s");
            }
            catch (Exception e)
            {
                throw new HandOverUncertainException(
                    $"the hand-over was committed but the destination did not confirm it ({SourceSession.Describe(e.InnerException ?? e)}): " +
                    "both sides are paused; check the destination and run `cont` on the side that should keep the VM", e);
            }
        }

        // The destination held Resumed back until the guest's first heartbeat there; the guest ran meanwhile, so
        // that wait is no part of the stop (it only lets the guest-seen downtime below be measured).
        var held = TimeSpan.FromMilliseconds(done.HeldNs / 1e6);
        var stopped = SwitchoverDowntime.Estimate(Stopwatch.GetElapsedTime(pausedAt, committedAt), Stopwatch.GetElapsedTime(pausedAt, s.ResumedArrivedAt),
            held, pausedUnixNs, done.ResumedUnixNs);
        long stoppedMs = (long)stopped.TotalMilliseconds;
        timeline.Mark(SwitchoverStep.Resumed, TimeSpan.Zero, pausedAt + (long)(stopped.TotalSeconds * Stopwatch.Frequency));
        s.Log($"switchover: {timeline}");
        long guestDowntimeMs = done.FirstHeartbeatUnixNs > 0 && lastBeatBeforePause > 0
            ? Math.Max(0, (done.FirstHeartbeatUnixNs - lastBeatBeforePause) / 1_000_000)
            : -1;
        s.RecordDowntime(stoppedMs, guestDowntimeMs);
        // Turning dirty logging off can take milliseconds on KVM and is of no use to a stopped guest: done here, after
        // the stop, rather than inside it. (A switchover that fails resumes the guest and stops tracking then.)
        s.StopTracking();
        return null;
    }
}
