namespace Tern.Migration.Engine;

/// <summary>What the RAM loop measured, as the convergence decisions see it.</summary>
/// <param name="Pass">Passes completed so far (the first pass sends all of RAM).</param>
/// <param name="RemainingPages">Dirty pages still to send.</param>
/// <param name="WireBytesPerPage">Bytes a dirty page has recently cost on the wire, after XBZRLE and compression.</param>
/// <param name="BandwidthBytesPerSecond">Recently measured sending rate; 0 when unknown.</param>
/// <param name="DirtyPagesPerSecond">Rate at which the guest dirties pages.</param>
/// <param name="DowntimeLimitMs">The operator's downtime budget.</param>
/// <param name="PagesSentInPass">Pages the pass before the sync sent (0: not known).</param>
public readonly record struct ConvergenceSnapshot(
    long Pass,
    long RemainingPages,
    double WireBytesPerPage,
    double BandwidthBytesPerSecond,
    double DirtyPagesPerSecond,
    long DowntimeLimitMs,
    long PagesSentInPass = 0);

/// <summary>
/// The pre-copy decisions, as pure functions of a snapshot so they can be tested on recorded numbers. They count the
/// bytes that will really go on the wire (the measured cost of a dirty page after XBZRLE and compression), not whole
/// pages: QEMU 7.2 measures bandwidth in compressed bytes but the remaining work in whole pages, and so never
/// converges on guests that compress well.
/// </summary>
public static class ConvergencePolicy
{
    /// <summary>How long the final copy would take if the guest stopped now; null while bandwidth is unknown.</summary>
    public static TimeSpan? ExpectedDowntime(in ConvergenceSnapshot s)
    {
        if (s.RemainingPages == 0) return TimeSpan.Zero;
        if (s.BandwidthBytesPerSecond <= 0) return null;
        return TimeSpan.FromSeconds(s.RemainingPages * s.WireBytesPerPage / s.BandwidthBytesPerSecond);
    }

    /// <summary>
    /// Stop the guest and send the rest when that fits in the downtime budget (after at least one full pass) and one
    /// more live pass would not at least halve it. The limit is a ceiling, not a target: a guest whose remaining pages
    /// take 40 ms while it dirties little is better sent live, and stopped for the few pages it dirtied meanwhile.
    /// Each live pass sends what remains in the time the stop would take (T) while the guest dirties
    /// <see cref="ConvergenceSnapshot.DirtyPagesPerSecond"/> x T pages, so the stop after it would take
    /// <see cref="NextStopRatio"/> x T: below 1/2, continuing pays; at or above it (or once the stop is negligible,
    /// <see cref="NegligibleStop"/>), stop now. The remaining stop halves at least with each pass, so this ends.
    /// </summary>
    public static bool ShouldSwitchOver(in ConvergenceSnapshot s)
    {
        if (!FitsLimit(s)) return false;
        if (ExpectedDowntime(s) <= NegligibleStop(s.DowntimeLimitMs)) return true;
        return NextStopRatio(s) >= 0.5;
    }

    /// <summary>What remains could be sent within the downtime limit now (after at least one full pass).</summary>
    public static bool FitsLimit(in ConvergenceSnapshot s) =>
        s.Pass >= 1 && ExpectedDowntime(s) is { } d && d.TotalMilliseconds <= s.DowntimeLimitMs;

    /// <summary>A stop this short is not worth another pass: 5 ms, or a tenth of a smaller limit.</summary>
    public static TimeSpan NegligibleStop(long downtimeLimitMs) => TimeSpan.FromMilliseconds(Math.Min(5, downtimeLimitMs / 10.0));

    /// <summary>
    /// The stop after one more live pass, as a fraction of the stop now: the wire bytes the guest dirties per second
    /// over the bytes the link sends per second (0 when the bandwidth is unknown).
    /// </summary>
    public static double NextStopRatio(in ConvergenceSnapshot s) =>
        s.BandwidthBytesPerSecond > 0 ? s.DirtyPagesPerSecond * s.WireBytesPerPage / s.BandwidthBytesPerSecond : 0;

    /// <summary>
    /// False while the guest dirties memory faster than the link can send it, or the pass left as many dirty pages as
    /// it sent: more passes will not help. The second is the measured fact behind the first where the rates meet: a
    /// guest that rewrites its whole working set within every pass shows a dirty rate of that set over the pass's
    /// time, which is the link's own rate, and the comparison of the two rates is then a toss of their noise.
    /// </summary>
    public static bool IsConverging(in ConvergenceSnapshot s) =>
        !LeftAsManyAsItSent(s) && (s.BandwidthBytesPerSecond <= 0 || s.DirtyPagesPerSecond * s.WireBytesPerPage < s.BandwidthBytesPerSecond);

    /// <summary>Why <see cref="IsConverging"/> says no, in the operator's words.</summary>
    public static string WhyNotConverging(in ConvergenceSnapshot s) => LeftAsManyAsItSent(s)
        ? FormattableString.Invariant($"the pass sent {s.PagesSentInPass} pages and {s.RemainingPages} were dirty again after it")
        : FormattableString.Invariant($"the guest dirties {s.DirtyPagesPerSecond * s.WireBytesPerPage / (1 << 20):0.0} MiB/s of wire bytes, the link sends {s.BandwidthBytesPerSecond / (1 << 20):0.0} MiB/s");

    /// <summary>The pass did not shrink what is left to send: as many pages were dirty after it as it sent.</summary>
    public static bool LeftAsManyAsItSent(in ConvergenceSnapshot s) => s.PagesSentInPass > 0 && s.RemainingPages >= s.PagesSentInPass;
}
