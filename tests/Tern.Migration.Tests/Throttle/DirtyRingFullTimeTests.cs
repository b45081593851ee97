using Tern.Migration.Throttle;

namespace Tern.Migration.Tests.Throttle;

public sealed class DirtyRingFullTimeTests
{
    [Fact]
    public void The_time_is_the_ring_memory_over_the_mean_vcpu_rate()
    {
        // 65,536 entries name 256 MiB; two vCPUs at 8 and 0 MiB/s average 4 MiB/s: 64 s.
        Assert.Equal(64_000_000, DirtyRingFullTime.Microseconds(65_536, [8.0 * (1 << 20), 0]));
        // 4,096 entries (16 MiB) at 16 MiB/s: a second.
        Assert.Equal(1_000_000, DirtyRingFullTime.Microseconds(4_096, [16.0 * (1 << 20)]));
    }

    [Fact]
    public void A_guest_that_dirties_nothing_or_no_ring_gives_zero()
    {
        Assert.Equal(0, DirtyRingFullTime.Microseconds(65_536, [0, 0]));
        Assert.Equal(0, DirtyRingFullTime.Microseconds(65_536, []));
        Assert.Equal(0, DirtyRingFullTime.Microseconds(0, [1e6]));
    }
}
