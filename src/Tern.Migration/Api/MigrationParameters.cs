namespace Tern.Migration.Api;

/// <summary>
/// Tunable migration parameters, named as in QEMU's QAPI <c>MigrationParameters</c>. Every value has a default an
/// operator need not change; <see cref="Validate"/> names the first bad value.
/// </summary>
public sealed record MigrationParameters
{
    /// <summary>Default downtime budget, as in QEMU.</summary>
    public const long DefaultDowntimeLimitMs = 300;

    /// <summary><c>downtime-limit</c>: the longest the guest may be paused for the final copy, in ms.</summary>
    public long DowntimeLimitMs { get; init; } = DefaultDowntimeLimitMs;
    /// <summary><c>max-bandwidth</c>: bytes per second for page data; 0 means unlimited.</summary>
    public ulong MaxBandwidth { get; init; }
    /// <summary><c>xbzrle-cache-size</c>: bytes; 0 means sized automatically from the measured working set.</summary>
    public ulong XbzrleCacheSize { get; init; }
    /// <summary><c>multifd-channels</c>: page-data connections when multifd is on.</summary>
    public int MultifdChannels { get; init; } = 2;
    /// <summary><c>compress-level</c>: codec level (1 is fastest).</summary>
    public int CompressLevel { get; init; } = 1;
    /// <summary><c>compress-threads</c>: compression worker threads.</summary>
    public int CompressThreads { get; init; } = 2;
    /// <summary><c>decompress-threads</c>: decompression worker threads on the destination.</summary>
    public int DecompressThreads { get; init; } = 2;
    /// <summary><c>x-compress-method</c>: zstd, lz4 or zlib.</summary>
    public string CompressMethod { get; init; } = "zstd";
    /// <summary><c>x-memory-budget</c>: host bytes Tern may use for caches; 0 means a safe fraction of free host memory.</summary>
    public ulong MemoryBudget { get; init; }
    /// <summary><c>x-timeout</c>: give up (guest stays on the source) after this many ms; 0 means never.</summary>
    public long TimeoutMs { get; init; }

    public string? Validate()
    {
        if (DowntimeLimitMs is < 1 or > 2_000_000) return "downtime-limit must be between 1 and 2000000 ms";
        if (MultifdChannels is < 1 or > 64) return "multifd-channels must be between 1 and 64";
        if (CompressLevel is < 1 or > 22) return "compress-level must be between 1 and 22";
        if (CompressThreads is < 1 or > 64) return "compress-threads must be between 1 and 64";
        if (DecompressThreads is < 1 or > 64) return "decompress-threads must be between 1 and 64";
        if (CompressMethod is not ("zstd" or "lz4" or "zlib")) return "x-compress-method must be zstd, lz4 or zlib";
        if (XbzrleCacheSize != 0 && XbzrleCacheSize < 4096) return "xbzrle-cache-size must be 0 (automatic) or at least one page (4096)";
        if (TimeoutMs < 0) return "x-timeout must not be negative";
        return null;
    }
}
