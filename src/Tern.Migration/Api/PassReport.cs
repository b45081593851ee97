namespace Tern.Migration.Api;

/// <summary>
/// What one pre-copy pass did and what the sync after it found: the one record that <c>x-query-migrate-history</c>,
/// the decisions, the live display and reports read. Counts are for this pass only (not cumulative).
/// </summary>
public sealed record PassReport
{
    public long Pass { get; init; }
    /// <summary>The pass sent while the guest was paused (the switchover).</summary>
    public bool Final { get; init; }
    /// <summary>When the pass began, in ms since the migration started.</summary>
    public long StartMs { get; init; }
    /// <summary>How long sending the pass took (encode and write, overlapped), in ms.</summary>
    public double SendMs { get; init; }
    /// <summary>The time between the sync before this pass and the one after it, in ms: the period the dirty rate and the throttle decision cover; null for the final pass.</summary>
    public double? SyncPeriodMs { get; init; }
    /// <summary>How long the dirty sync after the pass took, in ms; null for the final pass (no sync follows it).</summary>
    public double? SyncMs { get; init; }

    public long NormalPages { get; init; }
    public long ZeroPages { get; init; }
    public long XbzrlePages { get; init; }
    public long CompressedPages { get; init; }
    /// <summary>Bytes this pass put on the wire, frames included.</summary>
    public long WireBytes { get; init; }
    /// <summary>This pass's own sending rate, in bytes a second.</summary>
    public double BytesPerSecond { get; init; }

    /// <summary>Pages the sync after the pass found dirty (what the guest wrote while the pass went out).</summary>
    public long? DirtyPages { get; init; }
    /// <summary>The guest's dirty rate over the pass, in pages a second.</summary>
    public double? DirtyPagesPerSecond { get; init; }
    /// <summary>Pages each vCPU dirtied, where the dirty tracking tells vCPUs apart.</summary>
    public IReadOnlyList<long>? DirtyPagesPerVcpu { get; init; }
    /// <summary>Dirty pages left to send after the sync.</summary>
    public long? RemainingPages { get; init; }
    /// <summary>What a dirty page costs on the wire, as the estimator learned it (after XBZRLE and compression).</summary>
    public double WireBytesPerPage { get; init; }
    /// <summary>The smoothed bandwidth the decisions use, in bytes a second.</summary>
    public double EstimatedBytesPerSecond { get; init; }
    /// <summary>How long the final copy would take if the guest stopped after this pass, in ms.</summary>
    public long? ExpectedDowntimeMs { get; init; }
    public bool? Converging { get; init; }

    /// <summary>The throttle each vCPU will run under during the next pass (percent).</summary>
    public IReadOnlyList<int>? ThrottlePercent { get; init; }
    public ulong XbzrleCacheBytes { get; init; }
    /// <summary>Threads that encoded this pass's XBZRLE pages (1: the migration thread; 0: XBZRLE was off).</summary>
    public int XbzrleThreads { get; init; }
    /// <summary>Wire bytes the pass's encoding produced per thread-second of encoding (waits for the link excluded): what one encoding thread keeps up with; null if not measured.</summary>
    public double? EncodeBytesPerThreadSecond { get; init; }
    /// <summary>What the link carried while it was writing (its rate when busy, summed over channels), in bytes a second; null if nothing was written.</summary>
    public double? LinkBytesPerSecond { get; init; }
    /// <summary>
    /// Pages the pass left for the next one because the guest wrote them again before the pass reached them (the first
    /// pass only: <c>DeferredPages</c>); null when the pass did not look.
    /// </summary>
    public long? DeferredPages { get; init; }
    /// <summary>The codec that compressed this pass's pages, or null.</summary>
    public string? CompressMethod { get; init; }
    /// <summary>What the engine decided after the pass: <c>continue</c>, <c>switchover</c>, <c>abort</c> or <c>complete</c> (final pass).</summary>
    public string Decision { get; init; } = "continue";
    /// <summary>Why the pass planner decided so, in the operator's words; null in reports recorded before planners gave reasons.</summary>
    public string? DecisionReason { get; init; }
}
