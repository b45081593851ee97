namespace Tern.Migration.Api;

/// <summary>
/// What <c>query-migrate</c> returns, shaped like QEMU's QAPI <c>MigrationInfo</c>: optional members are null
/// when QEMU would omit them. Tern's own additions carry an <c>x-</c> prefix on the wire.
/// </summary>
public sealed record MigrationInfo
{
    public MigrationStatus Status { get; init; } = MigrationStatus.None;
    public RamStats? Ram { get; init; }
    public XbzrleCacheStats? XbzrleCache { get; init; }
    public CompressionStats? Compression { get; init; }
    public long? TotalTimeMs { get; init; }
    public long? ExpectedDowntimeMs { get; init; }
    public long? DowntimeMs { get; init; }
    public long? SetupTimeMs { get; init; }
    public int? CpuThrottlePercentage { get; init; }
    public string? ErrorDesc { get; init; }

    /// <summary><c>x-guest-downtime</c>: the longest gap between guest heartbeats across the switchover, in ms.</summary>
    public long? GuestDowntimeMs { get; init; }
    /// <summary><c>x-verify</c>: result of the end-to-end RAM digest comparison, when it was requested.</summary>
    public VerificationResult? Verification { get; init; }
    /// <summary><c>x-channels</c>: the number of page-data connections in use.</summary>
    public int? Channels { get; init; }
    /// <summary><c>x-channel-bytes</c>: bytes each page-data connection has carried (channel 0 is the main connection).</summary>
    public IReadOnlyList<long>? ChannelBytes { get; init; }
    /// <summary><c>x-converging</c>: false while the guest dirties memory faster than the link sends it.</summary>
    public bool? Converging { get; init; }
    /// <summary><c>x-vcpu-throttle-percentage</c>: each vCPU's throttle, once auto-converge or dirty-limit has acted.</summary>
    public IReadOnlyList<int>? VcpuThrottlePercentages { get; init; }
    /// <summary><c>x-throttle-reason</c>: why the throttle is what it is (the measured rates the decision used).</summary>
    public string? ThrottleReason { get; init; }
    /// <summary><c>x-throttle-peak</c>: the highest throttle any vCPU ran under during the migration, in percent.</summary>
    public int? ThrottlePeak { get; init; }
    /// <summary><c>dirty-limit-throttle-time-per-round</c> (QEMU 8.1): with dirty-limit on, how long the most throttled vCPU sleeps in each throttle period, in µs.</summary>
    public long? DirtyLimitThrottleTimePerRoundUs { get; init; }
    /// <summary><c>x-plan</c>: what the engine decided for the coming pass (action, reason, encodings, throttle), apart from what the operator set.</summary>
    public PlanInfo? Plan { get; init; }
    /// <summary><c>x-switchover</c>: how long each step of the switchover took so far, in ms (pause, final-sync, ..., resumed).</summary>
    public IReadOnlyList<SwitchoverStepTime>? Switchover { get; init; }
    /// <summary><c>dirty-limit-ring-full-time</c> (QEMU 8.1): with dirty-limit on, how long a vCPU takes on average to fill its dirty ring, in µs (0: nothing dirtied).</summary>
    public long? DirtyLimitRingFullTimeUs { get; init; }
    /// <summary><c>x-postcopy</c>: the destination's post-copy figures, once post-copy has begun there.</summary>
    public PostcopyStats? Postcopy { get; init; }
    /// <summary><c>x-guest-progress-before</c>, <c>-during</c>, <c>x-guest-slowdown</c>: the guest's slowdown during the migration, from its own counters.</summary>
    public GuestSlowdown? GuestSlowdown { get; init; }
}

/// <summary>QAPI <c>MigrationStats</c>: RAM transfer counters.</summary>
public sealed record RamStats
{
    public long Transferred { get; init; }
    public long Remaining { get; init; }
    public long Total { get; init; }
    public long Duplicate { get; init; }
    public long Normal { get; init; }
    public long NormalBytes { get; init; }
    public long DirtyPagesRate { get; init; }
    public double Mbps { get; init; }
    public long DirtySyncCount { get; init; }
    public long PostcopyRequests { get; init; }
    public long PageSize { get; init; } = 4096;
    public ulong MultifdBytes { get; init; }
    public ulong PagesPerSecond { get; init; }
    public ulong PrecopyBytes { get; init; }
    public ulong DowntimeBytes { get; init; }
    public ulong PostcopyBytes { get; init; }
}

/// <summary>QAPI <c>XBZRLECacheStats</c>.</summary>
public sealed record XbzrleCacheStats
{
    public ulong CacheSize { get; init; }
    public long Bytes { get; init; }
    public long Pages { get; init; }
    public long CacheMiss { get; init; }
    public double CacheMissRate { get; init; }
    public double EncodingRate { get; init; }
    public long Overflow { get; init; }
}

/// <summary>QAPI <c>CompressionStats</c>.</summary>
public sealed record CompressionStats
{
    public long Pages { get; init; }
    public long Busy { get; init; }
    public double BusyRate { get; init; }
    public long CompressedSize { get; init; }
    public double CompressionRate { get; init; }
}

/// <summary>Outcome of <c>--verify</c>: XXH3-64 digests of guest RAM on both sides, taken while the guest was paused.</summary>
public sealed record VerificationResult(bool Matched, ulong SourceDigest, ulong DestinationDigest, long PagesCompared);

/// <summary>Tern's post-copy figures (<c>x-postcopy</c> in query-migrate), from the destination's missing-page service.</summary>
public sealed record PostcopyStats
{
    /// <summary>Pages that were stale at the switch (to fetch on demand or in the background).</summary>
    public long StalePages { get; init; }
    /// <summary>
    /// Of the pages that held data on the destination, those dropped before the pause (PostcopyDiscard), while the
    /// guest still ran on the source; the rest of the stale pages were dropped in the pause.
    /// </summary>
    public long DroppedAheadPages { get; init; }
    /// <summary>
    /// What the destination did with its stale pages: "drop" (punched out, pages placed fresh) or "overwrite" (kept
    /// unmapped and written over in place, userfaultfd MINOR mode); see Memory/Postcopy/StalePageChoice.
    /// </summary>
    public string StalePageHandling { get; init; } = "drop";
    /// <summary>Pages still missing now.</summary>
    public long MissingPages { get; init; }
    /// <summary>Accesses that found their page missing (vCPU faults in KVM, or reported by the simulated vCPUs).</summary>
    public long Faults { get; init; }
    public long PagesRequested { get; init; }
    public long RequestMessages { get; init; }
    public long PagesReceived { get; init; }
    public long BytesReceived { get; init; }
    /// <summary>Time vCPUs waited for missing pages (a page several vCPUs waited for counts once).</summary>
    public long VcpuBlockedMs { get; init; }
    /// <summary>The upper bounds (µs) of the fault-latency buckets; the counts have one more bucket for longer waits.</summary>
    public IReadOnlyList<long> FaultLatencyBucketsUs { get; init; } = [];
    public long[] FaultLatencyCounts { get; init; } = [];
    public long? FaultLatencyP50Us { get; init; }
    public long? FaultLatencyP99Us { get; init; }
    /// <summary>From the resume to the last page's arrival; null until then.</summary>
    public long? LastPageMs { get; init; }
    /// <summary>How many times a paused post-copy was recovered on a new connection.</summary>
    public int Recoveries { get; init; }
    /// <summary>Page requests sent again on a recovered urgent lane (asked before the break, not arrived).</summary>
    public long RequestsRepeated { get; init; }
}
