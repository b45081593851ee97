namespace Tern.Migration.Engine;

/// <summary>
/// How long the source lets the guest stay paused for the switchover before it takes the VM back: the downtime limit
/// plus a margin for what the convergence prediction does not count. A pure function of the figures at the pause.
/// </summary>
/// <remarks>
/// The margin, and why it is fair:
/// <list type="bullet">
/// <item><see cref="FixedMargin"/> (1 s): pausing the vCPUs, the last dirty-log sync, the device state, one round
/// trip for Complete and Ready, and thread scheduling on a busy host. None of it is in the prediction, and on an idle
/// host it is a few milliseconds, so a destination that answers at all answers well inside it.</item>
/// <item>The predicted final pass once more: <see cref="ConvergencePolicy"/> switched over because the last pages fit
/// in the limit at the measured bandwidth; the margin lets that pass run at half that speed.</item>
/// <item>With x-verify, the destination hashes all of guest RAM after the final pass (the source hashes while the
/// pass goes out): <see cref="DigestBytesPerSecondFloor"/> bounds that from below.</item>
/// </list>
/// A destination that stops reading or never answers is then detected in about 1.3 s at the default 300 ms limit
/// instead of never.
/// </remarks>
internal static class SwitchoverDeadline
{
    public static readonly TimeSpan FixedMargin = TimeSpan.FromSeconds(1);

    /// <summary>A slow host's XXH3 rate over guest RAM, page reads included (measured: several GiB/s on one core).</summary>
    public const double DigestBytesPerSecondFloor = 1 << 30;

    /// <param name="downtimeLimitMs">The operator's downtime-limit.</param>
    /// <param name="predictedFinalPass">The final pass as predicted at the switchover (null: unknown, counted as the limit).</param>
    /// <param name="verify">Whether both sides hash guest RAM inside the downtime.</param>
    /// <param name="ramBytes">Guest RAM size.</param>
    public static TimeSpan Margin(long downtimeLimitMs, TimeSpan? predictedFinalPass, bool verify, ulong ramBytes)
    {
        var limit = TimeSpan.FromMilliseconds(downtimeLimitMs);
        var finalPass = predictedFinalPass is { } p && p < limit ? p : limit;
        var digest = verify ? TimeSpan.FromSeconds(ramBytes / DigestBytesPerSecondFloor) : TimeSpan.Zero;
        return FixedMargin + finalPass + digest;
    }

    /// <summary>The longest the guest may stay paused: the limit plus <see cref="Margin"/>.</summary>
    public static TimeSpan For(long downtimeLimitMs, TimeSpan? predictedFinalPass, bool verify, ulong ramBytes) =>
        TimeSpan.FromMilliseconds(downtimeLimitMs) + Margin(downtimeLimitMs, predictedFinalPass, verify, ramBytes);
}
