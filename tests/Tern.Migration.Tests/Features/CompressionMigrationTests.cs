using Tern.Migration.Api;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Features;

public sealed class CompressionMigrationTests
{
    [Theory]
    [InlineData("zstd")]
    [InlineData("lz4")]
    [InlineData("zlib")]
    public void A_compressible_guest_transfers_fewer_bytes_with_compression(string method)
    {
        // seq pages hold a few 8-byte values and zeros: they compress very well.
        using var plain = LocalMigration.Sim("seq:ws=24M,rate=8", memoryBytes: 64 << 20, vcpus: 1);
        plain.Settings.SetCapability(MigrationCapability.Verify, true);
        plain.Source.Resume();
        Thread.Sleep(500);
        var without = plain.Run();
        Assert.True(without.Status == MigrationStatus.Completed, plain.Describe(without));

        using var packed = LocalMigration.Sim("seq:ws=24M,rate=8", memoryBytes: 64 << 20, vcpus: 1);
        packed.Settings.SetCapability(MigrationCapability.Verify, true);
        packed.Settings.SetCapability(MigrationCapability.Compress, true);
        packed.Settings.SetParameters(new MigrationParameters { CompressMethod = method, CompressThreads = 2 });
        packed.Source.Resume();
        Thread.Sleep(500);
        var with = packed.Run();
        Assert.True(with.Status == MigrationStatus.Completed, packed.Describe(with));

        var info = with.Info();
        Assert.True(info.Verification!.Matched);
        Assert.True(info.Compression!.Pages > 0, "pages went through the compression workers");
        Assert.True(info.Compression.CompressionRate > 4, $"compression rate {info.Compression.CompressionRate}");
        long a = without.Info().Ram!.Transferred, b = info.Ram!.Transferred;
        Assert.True(b < a / 3, $"with {method}: {b} bytes, without: {a}");
    }
}
