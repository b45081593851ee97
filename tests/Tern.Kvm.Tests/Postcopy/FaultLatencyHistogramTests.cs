using System.Diagnostics;
using Tern.Memory.Postcopy;

namespace Tern.Kvm.Tests.Postcopy;

/// <summary>The fault-latency histogram's fixed buckets.</summary>
public sealed class FaultLatencyHistogramTests
{
    private static long Ticks(double microseconds) => (long)(microseconds * Stopwatch.Frequency / 1_000_000);

    [Fact]
    public void Each_wait_lands_in_the_first_bucket_whose_bound_it_does_not_exceed()
    {
        var histogram = new FaultLatencyHistogram();
        histogram.Record(Ticks(3));       // <= 10 µs
        histogram.Record(Ticks(10));      // <= 10 µs (bounds are inclusive)
        histogram.Record(Ticks(15));      // <= 20 µs
        histogram.Record(Ticks(700));     // <= 1 ms
        histogram.Record(Ticks(2_500_000)); // beyond 1 s

        var counts = histogram.Counts();
        Assert.Equal(FaultLatencyHistogram.UpperBoundsMicroseconds.Count + 1, counts.Length);
        Assert.Equal(2, counts[0]);
        Assert.Equal(1, counts[1]);
        Assert.Equal(1, counts[FaultLatencyHistogram.UpperBoundsMicroseconds.ToList().IndexOf(1_000)]);
        Assert.Equal(1, counts[^1]);
        Assert.Equal(5, counts.Sum());
    }

    [Fact]
    public void The_quantile_bound_is_that_of_the_bucket_holding_it()
    {
        var histogram = new FaultLatencyHistogram();
        for (int i = 0; i < 90; i++) histogram.Record(Ticks(5));
        for (int i = 0; i < 10; i++) histogram.Record(Ticks(400));
        var counts = histogram.Counts();
        Assert.Equal(10, FaultLatencyHistogram.QuantileUpperBound(counts, 0.5));
        Assert.Equal(10, FaultLatencyHistogram.QuantileUpperBound(counts, 0.9));
        Assert.Equal(500, FaultLatencyHistogram.QuantileUpperBound(counts, 0.99));
        Assert.Null(FaultLatencyHistogram.QuantileUpperBound(new long[counts.Length], 0.5));
    }
}
