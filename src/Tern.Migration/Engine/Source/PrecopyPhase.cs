using System.Diagnostics;
using Tern.Migration.Api;
using Tern.Migration.Planning;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// Pre-copy: the first pass sends all of RAM, then each pass sends what the guest dirtied during the previous one,
/// each on the plan the planner made before it, until a plan says what comes next: the switchover (or, later,
/// post-copy), or an abort. A guest that dirties faster than the link sends keeps the loop going, reported as not
/// converging, until the operator cancels or the default planner's x-timeout ends it.
/// </summary>
internal sealed class PrecopyPhase(SourceSession session) : SourcePhase(session)
{
    public override SourcePhase? Run()
    {
        var s = Session;
        var tracker = s.Machine.DirtyTracker;
        var populated = s.StartTracking(tracker);
        long timeoutMs = s.Settings.Parameters.TimeoutMs;
        // A pass can be long (all of RAM over a slow link): the timeout must end it where it stands, not after it.
        using var deadline = timeoutMs > 0
            ? new Timer(_ => TimeOutInsidePass(timeoutMs), null, TimeUntil(timeoutMs), Timeout.InfiniteTimeSpan)
            : null;
        var plan = s.PlanPass(s.Pass + 1, latest: null, syncPeriod: null, final: false);
        PassReport? latest = null;
        while (true)
        {
            s.Pass++;
            s.Raise(new MigrationPassStarted(s.Pass));
            // A setting the operator changed since the plan was made applies to the pass about to start: ask again.
            // The sync period was measured once and its throttle applied, so the new plan leaves the throttle as it is.
            if (s.SettingsChangedSincePlan)
            {
                plan = s.PlanPass(s.Pass, latest, syncPeriod: null, final: false);
                if (Next(plan) is { } startedFinal) return startedFinal(true);
            }
            // Tracking is on before the holes are listed, so a hole the guest fills later is dirty and sent again.
            s.SendPass(final: false, plan.Encoding, s.Pass == 1 ? populated : null);
            var snapshot = s.SyncDirtyPages(tracker);
            var measured = s.SyncPeriodMeasurement(snapshot);
            var sent = s.PassReportOf(snapshot);
            plan = s.PlanPass(s.Pass + 1, sent, measured, final: false);
            if (plan.Throttle is { } throttlePlan) s.Throttle.Apply(throttlePlan);
            s.UpdateConvergence(snapshot);
            latest = s.RecordPass(sent, plan.Action.ToQapi(), plan.Reason);
            if (Next(plan) is { } after) return after(false);
            s.Cancellation.Token.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// The phase a plan's action leads to (given whether the final pass was announced already), or null to go on
    /// with pre-copy; an abort throws with the planner's reason.
    /// </summary>
    private Func<bool, SourcePhase>? Next(PassPlan plan)
    {
        switch (plan.Action)
        {
            case PassAction.SwitchOver:
                Session.Iterating = false;
                return finalPassStarted => new SwitchoverPhase(Session, finalPassStarted);
            case PassAction.Abort:
                throw new PassPlanAbortException(plan.Reason);
            case PassAction.StartPostcopy:
                Session.Iterating = false;
                return _ => new PostcopyPhase(Session);
            default:
                return null;
        }
    }

    private TimeSpan TimeUntil(long timeoutMs)
    {
        var left = TimeSpan.FromMilliseconds(timeoutMs) - Stopwatch.GetElapsedTime(Session.StartedAt);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>The x-timeout timer: ends the migration in the middle of a pass (the guest never left the source).</summary>
    private void TimeOutInsidePass(long timeoutMs)
    {
        if (!Session.Iterating) return; // the switchover has begun: it either completes or fails on its own
        Session.TimedOut = true;
        Session.Fail(new TimeoutException($"the migration did not converge within {timeoutMs / 1000.0:0.#} s (x-timeout): " +
            $"pass {Session.Pass} still had {Session.Counters.RemainingPages} pages to send"));
    }
}
