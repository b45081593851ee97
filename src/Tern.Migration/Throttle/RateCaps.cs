namespace Tern.Migration.Throttle;

/// <summary>
/// The arithmetic shared by the throttles that compute what they need: a vCPU's dirty rate without throttle, and the
/// throttle that brings a rate down to a cap. A vCPU throttled to t runs (1 - t) of the time, so it dirties about
/// (1 - t) of what it would unthrottled.
/// </summary>
public static class RateCaps
{
    /// <summary>What a vCPU measured at <paramref name="rate"/> under <paramref name="throttlePercent"/> would dirty unthrottled.</summary>
    public static double Unthrottled(double rate, int throttlePercent) =>
        rate / Math.Max(0.01, 1 - Math.Clamp(throttlePercent, 0, 99) / 100.0);

    /// <summary>The smallest whole-percent throttle that brings <paramref name="unthrottled"/> to at most <paramref name="cap"/>, at most <paramref name="maxPercent"/>.</summary>
    public static int ThrottleFor(double unthrottled, double cap, int maxPercent)
    {
        if (unthrottled <= cap || unthrottled <= 0) return 0;
        double needed = 1 - cap / unthrottled;
        return Math.Min(maxPercent, (int)Math.Ceiling(needed * 100 - 1e-9));
    }

    /// <summary>
    /// Water-filling: the per-vCPU cap <c>L</c> such that the rates capped at <c>L</c> sum to <paramref name="total"/>.
    /// Only the vCPUs above <c>L</c> are slowed, each to exactly <c>L</c>, so a vCPU that dirties little keeps its speed.
    /// Returns +infinity when the rates already sum to at most the total.
    /// </summary>
    public static double Level(IReadOnlyList<double> rates, double total)
    {
        double sum = 0;
        foreach (var r in rates) sum += r;
        if (sum <= total) return double.PositiveInfinity;
        var sorted = rates.OrderBy(r => r).ToArray();
        double below = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            int above = sorted.Length - i;
            double level = (total - below) / above;
            if (level <= sorted[i]) return Math.Max(0, level);
            below += sorted[i];
        }
        return double.PositiveInfinity;
    }
}
