using System.Diagnostics;

namespace Tern.Memory.Postcopy;

/// <summary>
/// How long faulting accesses waited for their page, in fixed buckets (1-2-5 steps from 10 µs to 1 s, then one
/// bucket for longer), so recording is one lock-free increment with no allocation and two histograms can be compared
/// bucket by bucket.
/// </summary>
public sealed class FaultLatencyHistogram
{
    /// <summary>The upper bound of each bucket but the last, in microseconds; the last bucket holds everything longer.</summary>
    public static readonly IReadOnlyList<long> UpperBoundsMicroseconds =
        [10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];

    private static readonly long[] UpperBoundsTicks =
        UpperBoundsMicroseconds.Select(us => us * Stopwatch.Frequency / 1_000_000).ToArray();

    private readonly long[] counts = new long[UpperBoundsTicks.Length + 1];

    /// <summary>Records one wait of <paramref name="ticks"/> Stopwatch ticks.</summary>
    public void Record(long ticks)
    {
        int bucket = 0;
        while (bucket < UpperBoundsTicks.Length && ticks > UpperBoundsTicks[bucket]) bucket++;
        Interlocked.Increment(ref counts[bucket]);
    }

    /// <summary>The counts now, one per bucket (<see cref="UpperBoundsMicroseconds"/>, then the overflow bucket).</summary>
    public long[] Counts()
    {
        var copy = new long[counts.Length];
        for (int i = 0; i < counts.Length; i++) copy[i] = Volatile.Read(ref counts[i]);
        return copy;
    }

    /// <summary>The upper bound (µs) of the bucket holding the <paramref name="quantile"/> of waits; null for none or the overflow bucket.</summary>
    public static long? QuantileUpperBound(long[] counts, double quantile)
    {
        long total = counts.Sum();
        if (total == 0) return null;
        long wanted = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= wanted) return i < UpperBoundsMicroseconds.Count ? UpperBoundsMicroseconds[i] : null;
        }
        return null;
    }
}
