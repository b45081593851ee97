namespace Tern.Migration.Engine.Source;

/// <summary>
/// How long the guest was stopped in a switchover, from what each side measured. The source knows for sure that the
/// stop lasted at least until Commit was written (the destination cannot resume before it reads Commit) and at most
/// until Resumed arrived, less what the destination says it held Resumed back with the guest running. Between the
/// two lie the Commit's way across, the destination's resume and the way back, which on a loaded host are mostly
/// threads waiting to be scheduled (an idle KVM guest whose heartbeats showed a 1 ms stop was reported at 4-7 ms).
/// Within those bounds the destination's own clock says when it resumed (Resumed's time, against the source's clock
/// at the pause): on one host exact, across hosts as good as their clocks agree, and never outside the bounds.
/// </summary>
internal static class SwitchoverDowntime
{
    /// <param name="untilCommitWritten">From the pause until Commit was written (the source's monotonic clock).</param>
    /// <param name="untilResumedArrived">From the pause until Resumed arrived (the same clock).</param>
    /// <param name="held">How long the destination held Resumed back after the guest ran (its own measure).</param>
    /// <param name="pausedUnixNs">The source's wall clock at the pause (Unix ns; 0: unknown).</param>
    /// <param name="resumedUnixNs">The destination's wall clock when it resumed the guest (Unix ns; 0: unknown).</param>
    public static TimeSpan Estimate(TimeSpan untilCommitWritten, TimeSpan untilResumedArrived, TimeSpan held, long pausedUnixNs, long resumedUnixNs)
    {
        var atLeast = untilCommitWritten < TimeSpan.Zero ? TimeSpan.Zero : untilCommitWritten;
        var atMost = untilResumedArrived - held;
        if (atMost < atLeast) atMost = atLeast;
        if (pausedUnixNs <= 0 || resumedUnixNs <= 0) return atMost;
        var byClocks = TimeSpan.FromTicks((resumedUnixNs - pausedUnixNs) / 100);
        return byClocks < atLeast ? atLeast : byClocks > atMost ? atMost : byClocks;
    }
}
