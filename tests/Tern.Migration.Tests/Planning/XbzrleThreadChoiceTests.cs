using Tern.Migration.Api;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;
using Tern.Os;

namespace Tern.Migration.Tests.Planning;

/// <summary>How many threads encode XBZRLE, on made-up measurements: as many as keep up with the link, capped by cores.</summary>
public sealed class XbzrleThreadChoiceTests
{
    private const double MiB = 1 << 20;

    [Fact]
    public void One_thread_that_keeps_up_with_the_link_stays_one()
    {
        var (threads, reason) = XbzrleThreadChoice.ForNextPass(0, cores: 8, encodeBytesPerThreadSecond: 200 * MiB, linkBytesPerSecond: 100 * MiB);
        Assert.Equal(1, threads);
        Assert.Equal("automatic: one thread's encoding produces 200.0 MiB/s of wire bytes, the link carries 100.0 MiB/s, so one thread keeps up", reason);
    }

    [Theory]
    [InlineData(100, 150, 8, 2)]
    [InlineData(100, 300, 8, 3)]
    [InlineData(100, 301, 8, 4)]
    [InlineData(100, 1000, 8, 8)]
    [InlineData(100, 1000, 2, 2)]
    [InlineData(100, 1000, 1, 1)]
    public void A_slower_encoding_gets_as_many_threads_as_keep_up_but_no_more_than_cores(double encodeMiB, double linkMiB, int cores, int expected)
    {
        var (threads, reason) = XbzrleThreadChoice.ForNextPass(0, cores, encodeMiB * MiB, linkMiB * MiB);
        Assert.Equal(expected, threads);
        Assert.Contains($"one thread's encoding produces {encodeMiB:0.0} MiB/s of wire bytes, the link carries {linkMiB:0.0} MiB/s", reason);
        if (Math.Ceiling(linkMiB / encodeMiB) > cores) Assert.EndsWith($"capped at the host's {cores} cores", reason);
    }

    [Fact]
    public void The_link_carries_no_more_than_max_bandwidth()
    {
        // A short pass fits in the limiter's burst and measures the raw link; the limit is what the link will carry.
        var (threads, reason) = XbzrleThreadChoice.ForNextPass(0, 8, 20 * MiB, 700 * MiB, maxBandwidth: 32 << 20);
        Assert.Equal(2, threads);
        Assert.Contains("the link carries 32.0 MiB/s (max-bandwidth)", reason);
    }

    [Fact]
    public void Without_a_measurement_it_is_one_thread()
    {
        Assert.Equal((1, "automatic: XBZRLE encoding not measured yet, so one thread"), XbzrleThreadChoice.ForNextPass(0, 8, null, 100 * MiB));
        Assert.Equal(1, XbzrleThreadChoice.ForNextPass(0, 8, 100 * MiB, null).Threads);
    }

    [Fact]
    public void The_operators_count_is_used_within_the_cores()
    {
        Assert.Equal((3, "x-xbzrle-threads is 3"), XbzrleThreadChoice.ForNextPass(3, 8, 1000 * MiB, 1 * MiB));
        Assert.Equal((2, "x-xbzrle-threads is 6, capped at the host's 2 cores"), XbzrleThreadChoice.ForNextPass(6, 2, null, null));
    }

    [Fact]
    public void The_planner_takes_the_figures_of_the_last_pass_that_encoded_xbzrle_and_uses_one_thread_with_compression()
    {
        var slow = new PassReport { Pass = 4, XbzrleThreads = 1, EncodeBytesPerThreadSecond = 50 * MiB, LinkBytesPerSecond = 120 * MiB, Decision = "" };
        var plain = slow with { XbzrleThreads = 0 };
        PlanInputs After(PassReport latest, params MigrationCapability[] on) => new()
        {
            Pass = 5,
            Latest = latest,
            Parameters = new MigrationParameters { XbzrleCacheSize = 64 << 20 },
            Capabilities = on.ToHashSet(),
            Negotiated = ProtocolCapabilities.Supported,
            GuestRamBytes = 1UL << 30,
            HostMemory = new HostMemoryInfo(64UL << 30, 32UL << 30, 16UL << 30),
            HostCores = 4,
        };
        var planner = new DefaultPassPlanner();

        var encoding = planner.Plan(After(slow, MigrationCapability.Xbzrle)).Encoding;
        Assert.Equal(3, encoding.XbzrleThreads);
        Assert.Contains("so 3 threads keep up", encoding.XbzrleThreadsReason);

        Assert.Equal(1, planner.Plan(After(plain, MigrationCapability.Xbzrle)).Encoding.XbzrleThreads);
        // The final pass is planned without a latest report: the last XBZRLE pass in the history decides.
        // (The final pass keeps the cache the live passes made, so it has one.)
        var final = After(plain, MigrationCapability.Xbzrle) with { Latest = null, Final = true, History = [slow, plain], XbzrleCacheBytes = 64 << 20 };
        Assert.Equal(3, planner.Plan(final).Encoding.XbzrleThreads);
        var compressed = planner.Plan(After(slow, MigrationCapability.Xbzrle, MigrationCapability.Compress)).Encoding;
        Assert.Equal((1, "compression is on: XBZRLE runs on the migration thread"), (compressed.XbzrleThreads, compressed.XbzrleThreadsReason));
    }
}
