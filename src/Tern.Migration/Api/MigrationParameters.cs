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
    /// <summary>
    /// <c>max-postcopy-bandwidth</c>: bytes per second for post-copy's background stream, in place of max-bandwidth once
    /// the guest runs on the destination; 0 (QEMU's default) means unlimited. Requested pages are never paced.
    /// </summary>
    public ulong MaxPostcopyBandwidth { get; init; }
    /// <summary><c>xbzrle-cache-size</c>: bytes; 0 means sized automatically from the measured working set.</summary>
    public ulong XbzrleCacheSize { get; init; }
    /// <summary><c>x-xbzrle-threads</c>: threads that encode XBZRLE (QEMU has no such parameter); 0 means as many as keep up with the link, by measurement.</summary>
    public int XbzrleThreads { get; init; }
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

    /// <summary><c>throttle-trigger-threshold</c>: QEMU's step throttle starts when the guest dirtied more than this percentage of what was sent.</summary>
    public int ThrottleTriggerThreshold { get; init; } = 50;
    /// <summary><c>cpu-throttle-initial</c>: QEMU's step throttle's first step, in percent.</summary>
    public int CpuThrottleInitial { get; init; } = 20;
    /// <summary><c>cpu-throttle-increment</c>: QEMU's step throttle's step, in percent.</summary>
    public int CpuThrottleIncrement { get; init; } = 10;
    /// <summary><c>cpu-throttle-tailslow</c>: QEMU's step throttle takes smaller steps near what it needs.</summary>
    public bool CpuThrottleTailslow { get; init; }
    /// <summary><c>max-cpu-throttle</c>: no vCPU is throttled above this percentage, whichever throttle runs.</summary>
    public int MaxCpuThrottle { get; init; } = 99;
    /// <summary><c>x-throttle-method</c>: <c>computed</c> (Tern's, the default: only what convergence needs, only on the vCPUs that dirty) or <c>step</c> (QEMU's algorithm).</summary>
    public string ThrottleMethod { get; init; } = "computed";
    /// <summary><c>vcpu-dirty-limit</c>: with the <c>dirty-limit</c> capability, each vCPU's dirty-rate limit in MB/s during a migration.</summary>
    public ulong VcpuDirtyLimit { get; init; } = 1;

    public string? Validate()
    {
        if (DowntimeLimitMs is < 1 or > 2_000_000) return "downtime-limit must be between 1 and 2000000 ms";
        if (MultifdChannels is < 1 or > 64) return "multifd-channels must be between 1 and 64";
        if (CompressLevel is < 1 or > 22) return "compress-level must be between 1 and 22";
        if (CompressThreads is < 1 or > 64) return "compress-threads must be between 1 and 64";
        if (DecompressThreads is < 1 or > 64) return "decompress-threads must be between 1 and 64";
        if (CompressMethod is not ("zstd" or "lz4" or "zlib")) return "x-compress-method must be zstd, lz4 or zlib";
        if (XbzrleCacheSize != 0 && XbzrleCacheSize < 4096) return "xbzrle-cache-size must be 0 (automatic) or at least one page (4096)";
        if (XbzrleThreads is < 0 or > 64) return "x-xbzrle-threads must be between 0 (automatic) and 64";
        if (TimeoutMs < 0) return "x-timeout must not be negative";
        if (ThrottleTriggerThreshold is < 1 or > 100) return "throttle-trigger-threshold must be between 1 and 100";
        if (CpuThrottleInitial is < 1 or > 99) return "cpu-throttle-initial must be between 1 and 99";
        if (CpuThrottleIncrement is < 1 or > 99) return "cpu-throttle-increment must be between 1 and 99";
        if (MaxCpuThrottle is < 1 or > 99) return "max-cpu-throttle must be between 1 and 99";
        if (ThrottleMethod is not ("computed" or "step")) return "x-throttle-method must be computed or step";
        if (VcpuDirtyLimit < 1) return "vcpu-dirty-limit must be at least 1 MB/s";
        return null;
    }
}
