using Tern.Migration.Api;

namespace Tern.Control.Tests;

/// <summary>MigrationInfo values shared by the query-migrate, formatter and client tests.</summary>
internal static class SampleMigrations
{
    public static readonly MigrationInfo Active = new()
    {
        Status = MigrationStatus.Active,
        TotalTimeMs = 5230,
        ExpectedDowntimeMs = 42,
        SetupTimeMs = 12,
        Ram = new RamStats
        {
            Transferred = 734_003_200,
            Remaining = 52_428_800,
            Total = 1_073_741_824,
            Duplicate = 120_000,
            Normal = 179_200,
            NormalBytes = 734_003_200,
            DirtyPagesRate = 3100,
            Mbps = 1123.456,
            DirtySyncCount = 3,
            PageSize = 4096,
            MultifdBytes = 0,
            PagesPerSecond = 34_000,
            PrecopyBytes = 734_003_200,
        },
        XbzrleCache = new XbzrleCacheStats
        {
            CacheSize = 67_108_864,
            Bytes = 10_485_760,
            Pages = 9000,
            CacheMiss = 1200,
            CacheMissRate = 0.1234,
            EncodingRate = 7.5,
            Overflow = 3,
        },
        Compression = new CompressionStats
        {
            Pages = 50_000,
            Busy = 12,
            BusyRate = 0.005,
            CompressedSize = 20_971_520,
            CompressionRate = 9.76,
        },
        Channels = 4,
        Converging = true,
    };

    public static readonly MigrationInfo Completed = Active with
    {
        Status = MigrationStatus.Completed,
        TotalTimeMs = 8012,
        ExpectedDowntimeMs = null,
        DowntimeMs = 61,
        Ram = Active.Ram! with { Remaining = 0, DirtyPagesRate = 0, DirtySyncCount = 5, DowntimeBytes = 2_097_152 },
        GuestDowntimeMs = 75,
        Verification = new VerificationResult(true, 0x0123456789ABCDEF, 0x0123456789ABCDEF, 262_144),
        Converging = null,
    };
}
