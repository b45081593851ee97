using Tern.Control.Progress;

namespace Tern.Control.Tests.Progress;

public sealed class GuestSlowdownCalculatorTests
{
    private static ProgressReading R(double seconds, params ulong[] counters) => new(seconds, counters);

    [Fact]
    public void Compares_the_rate_during_the_migration_with_the_rate_before_it()
    {
        // 1000/s before; 600/s during: a 40% slowdown.
        var s = GuestSlowdownCalculator.Measure(R(0, 0), R(2, 2000), R(2.5, 2400), R(4.5, 3600), [true])!;
        Assert.Equal(1000, s.ProgressBeforePerSecond, 6);
        Assert.Equal(600, s.ProgressDuringPerSecond, 6);
        Assert.Equal(0.4, s.Slowdown, 6);
        Assert.Equal(2, s.BeforeSeconds, 6);
        Assert.Equal(2, s.DuringSeconds, 6);
    }

    [Fact]
    public void Each_vcpu_counts_equally_so_a_fast_one_cannot_hide_a_stalled_one()
    {
        // vCPU 0 writes 1 M/s and stalls to 0; vCPU 1 computes 100 M/s, unhurt.
        var s = GuestSlowdownCalculator.Measure(R(0, 0, 0), R(1, 1_000_000, 100_000_000), R(1, 1_000_000, 100_000_000),
            R(2, 1_000_000, 200_000_000), [true, true])!;
        Assert.Equal([1.0, 0.0], s.VcpuSlowdowns);
        Assert.Equal(0.5, s.Slowdown, 6);
        Assert.Equal(101_000_000, s.ProgressBeforePerSecond, 3);
        Assert.Equal(100_000_000, s.ProgressDuringPerSecond, 3);
    }

    [Fact]
    public void Unmeasured_vcpus_are_left_out()
    {
        // vCPU 1 is idle: its ticks do not slow down, and must not dilute vCPU 0's slowdown.
        var s = GuestSlowdownCalculator.Measure(R(0, 0, 0), R(1, 100, 1000), R(1, 100, 1000), R(2, 150, 2000), [true, false])!;
        Assert.Equal([0.5, null], s.VcpuSlowdowns);
        Assert.Equal(0.5, s.Slowdown, 6);
        Assert.Equal(100, s.ProgressBeforePerSecond, 6);
    }

    [Fact]
    public void A_guest_faster_during_the_migration_has_a_negative_slowdown()
    {
        var s = GuestSlowdownCalculator.Measure(R(0, 0), R(1, 100), R(1, 100), R(2, 210), [true])!;
        Assert.Equal(-0.1, s.Slowdown, 6);
    }

    [Fact]
    public void There_is_no_measurement_without_two_windows_or_progress_before_or_with_counters_that_went_back()
    {
        Assert.Null(GuestSlowdownCalculator.Measure(R(1, 100), R(1, 100), R(1, 100), R(2, 200), [true]));      // empty before window
        Assert.Null(GuestSlowdownCalculator.Measure(R(0, 0), R(1, 100), R(2, 200), R(2, 200), [true]));        // empty during window
        Assert.Null(GuestSlowdownCalculator.Measure(R(0, 5), R(1, 5), R(1, 5), R(2, 200), [true]));            // no progress before
        Assert.Null(GuestSlowdownCalculator.Measure(R(0, 0), R(1, 100), R(1, 100), R(2, 50), [true]));         // went back
        Assert.Null(GuestSlowdownCalculator.Measure(R(0, 0), R(1, 100), R(1, 100), R(2, 200, 3), [true]));     // vCPU count changed
        Assert.Null(GuestSlowdownCalculator.Measure(R(0, 0), R(1, 100), R(1, 100), R(2, 200), [false]));       // nothing measured
    }

    [Fact]
    public void A_guest_that_ran_too_briefly_before_the_migration_has_no_rate_to_compare_with()
    {
        // 0.13 s of a guest still touching its memory for the first time: it looked 16 times faster during the migration.
        Assert.Null(GuestSlowdownCalculator.Measure(R(0, 0), R(0.13, 13), R(0.13, 13), R(1.13, 1650), [true]));
        Assert.NotNull(GuestSlowdownCalculator.Measure(R(0, 0), R(GuestSlowdownCalculator.MinimumBeforeSeconds, 50), R(0.5, 50), R(1.5, 150), [true]));
    }
}
