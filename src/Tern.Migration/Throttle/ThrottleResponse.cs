namespace Tern.Migration.Throttle;

/// <summary>
/// Whether raising a vCPU's throttle lowered its measured dirty rate. The computed throttle assumes a vCPU throttled
/// to t dirties (1 - t) of what it would unthrottled. That fails for a guest whose dirtying is not bound by its CPU
/// time: one that rewrites a small working set many times between two syncs still dirties all of it at half speed
/// (the tracker counts each page once a period), and one whose writes come from a device or the VMM is not slowed at
/// all. Measured on KVM, such a guest drove the throttle 50 -> 75 -> 88 -> 94% for nothing. So each rise is checked
/// against the next period's measurement: when the rate fell by less than a quarter of what the model predicted, more
/// throttle is not bought. Conservative: only a rise of at least <see cref="MinStepPercent"/> points is judged.
/// </summary>
public static class ThrottleResponse
{
    /// <summary>A smaller rise is within the noise of two periods' rates.</summary>
    public const int MinStepPercent = 10;

    /// <summary>The share of the predicted fall that counts as the throttle biting.</summary>
    public const double MinShareOfPredictedFall = 0.25;

    /// <summary>
    /// True when the throttle rose from <paramref name="throttleBefore"/> to <paramref name="throttleAfter"/> percent and
    /// the measured rate went from <paramref name="rateBefore"/> to <paramref name="rateAfter"/> (same unit), falling by
    /// less than <see cref="MinShareOfPredictedFall"/> of the fall the model predicts.
    /// </summary>
    public static bool NotBiting(double rateBefore, int throttleBefore, double rateAfter, int throttleAfter)
    {
        if (throttleAfter < throttleBefore + MinStepPercent || !(rateBefore > 0)) return false;
        double predicted = rateBefore * (1 - Math.Min(throttleAfter, 99) / 100.0) / (1 - Math.Min(throttleBefore, 99) / 100.0);
        return rateBefore - rateAfter < MinShareOfPredictedFall * (rateBefore - predicted);
    }

    /// <summary>The rate the model predicts after the rise, for the reason text.</summary>
    public static double Predicted(double rateBefore, int throttleBefore, int throttleAfter) =>
        rateBefore * (1 - Math.Min(throttleAfter, 99) / 100.0) / (1 - Math.Min(throttleBefore, 99) / 100.0);
}
