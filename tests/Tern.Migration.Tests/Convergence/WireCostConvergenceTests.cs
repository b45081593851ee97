using Tern.Migration.Api;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Convergence;

/// <summary>
/// A guest that dirties all of a 32 MiB working set in every pass, on a 16 MiB/s link with a 300 ms budget: as whole
/// pages the remaining work (up to 8192 pages against 1229 that fit) never fits; the link is slow enough that even a
/// simulated guest starved of CPU on a loaded machine re-dirties far more than that within a pass (QEMU 7.2's accounting, which is why its compressed migrations of such
/// guests never converge). Tern counts the bytes compression really puts on the wire, and switches over.
/// </summary>
public sealed class WireCostConvergenceTests
{
    private static LocalMigration Guest(long timeoutMs, bool compress)
    {
        var m = LocalMigration.Sim("seq:ws=32M", memoryBytes: 64 << 20, vcpus: 1);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 16 << 20, TimeoutMs = timeoutMs, CompressThreads = 2 });
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        if (compress) m.Settings.SetCapability(MigrationCapability.Compress, true);
        m.Source.Resume();
        Thread.Sleep(200);
        return m;
    }

    [Fact]
    public void Sending_whole_pages_it_cannot_converge()
    {
        using var m = Guest(timeoutMs: 8_000, compress: false);
        var source = m.Run();
        Assert.Equal(MigrationStatus.Failed, source.Status);
        Assert.Contains("did not converge", source.Info().ErrorDesc);
    }

    [Fact]
    public void Compressed_it_converges_because_the_estimate_counts_compressed_bytes()
    {
        using var m = Guest(timeoutMs: 60_000, compress: true);
        var source = m.Run();
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        var info = source.Info();
        Assert.True(info.Verification!.Matched);
        Assert.True(info.Compression!.CompressionRate > 10, $"compression-rate {info.Compression.CompressionRate}");
        Assert.True(info.DowntimeMs < 2_000, $"downtime {info.DowntimeMs} ms");
    }
}
