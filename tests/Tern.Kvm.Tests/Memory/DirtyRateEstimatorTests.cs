using Tern.Memory.DirtyRate;

namespace Tern.Kvm.Tests.Memory;

/// <summary>The page-sampling estimate, on made-up counts.</summary>
public sealed class DirtyRateEstimatorTests
{
    private const ulong OneGibOfPages = 262_144;

    [Fact]
    public void The_changed_fraction_of_the_sample_is_extrapolated_to_all_of_RAM_per_second()
    {
        // 64 of 4096 sampled pages changed in one second: 1/64 of 1 GiB = 16 MiB.
        var e = DirtyRateEstimator.Estimate(4096, 64, OneGibOfPages, TimeSpan.FromSeconds(1));

        Assert.Equal(4096, e.DirtyPagesPerSecond, 6);
        Assert.Equal(16, e.MibPerSecond, 6);
        // sqrt(p(1-p)/n · (N-n)/(N-1)) · N with p = 1/64, n = 4096, N = 2^18.
        double expectedError = Math.Sqrt(1.0 / 64 * 63 / 64 / 4096 * (OneGibOfPages - 4096.0) / (OneGibOfPages - 1)) * OneGibOfPages;
        Assert.Equal(expectedError, e.StandardErrorPagesPerSecond, 6);
        Assert.InRange(e.StandardErrorPagesPerSecond, 500, 510);
        Assert.Equal(4096, e.SampledPages);
        Assert.Equal(64, e.ChangedPages);
    }

    [Fact]
    public void A_longer_window_divides_the_rate()
    {
        var e = DirtyRateEstimator.Estimate(512, 256, OneGibOfPages, TimeSpan.FromSeconds(2));

        Assert.Equal(OneGibOfPages / 4.0, e.DirtyPagesPerSecond, 6); // half of RAM changed, over two seconds
        Assert.Equal(256, e.MibPerSecond, 6);
    }

    [Fact]
    public void Sampling_every_page_is_exact_and_no_change_is_zero()
    {
        var all = DirtyRateEstimator.Estimate(1000, 10, 1000, TimeSpan.FromMilliseconds(500));
        Assert.Equal(20, all.DirtyPagesPerSecond, 6);
        Assert.Equal(0, all.StandardErrorPagesPerSecond, 6);

        var none = DirtyRateEstimator.Estimate(512, 0, OneGibOfPages, TimeSpan.FromSeconds(1));
        Assert.Equal(0, none.DirtyPagesPerSecond);
        Assert.Equal(0, none.StandardErrorPagesPerSecond);
    }

    [Fact]
    public void Counts_that_cannot_be_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DirtyRateEstimator.Estimate(0, 0, OneGibOfPages, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => DirtyRateEstimator.Estimate(10, 11, OneGibOfPages, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => DirtyRateEstimator.Estimate(10, -1, OneGibOfPages, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => DirtyRateEstimator.Estimate(10, 1, 5, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => DirtyRateEstimator.Estimate(10, 1, OneGibOfPages, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(512, OneGibOfPages, int.MaxValue, 512)]          // QEMU's default on 1 GiB
    [InlineData(512, 4 * OneGibOfPages, int.MaxValue, 2048)]     // per GiB
    [InlineData(4096, 3 * OneGibOfPages / 2, int.MaxValue, 6144)]
    [InlineData(512, 16_384, int.MaxValue, 128)]                 // 64 MiB: the minimum, not 32
    [InlineData(512, 64, int.MaxValue, 64)]                      // never more than RAM has
    [InlineData(1024, 64 * OneGibOfPages, 16_384, 16_384)]       // capped
    public void Pages_to_sample_follow_QEMUs_per_GiB_setting_within_bounds(int perGib, ulong ramPages, int max, int expected) =>
        Assert.Equal(expected, DirtyRateEstimator.PagesToSample(perGib, ramPages, max));
}
