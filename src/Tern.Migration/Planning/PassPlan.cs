using Tern.Migration.Throttle;

namespace Tern.Migration.Planning;

/// <summary>
/// The whole plan for the next pass: what to do (<see cref="Action"/>, and why), how to encode its pages, and the
/// throttle each vCPU runs under. The engine applies it as it is, within what the destination accepted.
/// </summary>
/// <param name="Action">Continue, switch over, start post-copy or abort.</param>
/// <param name="Reason">Why, in the operator's words (an abort's reason is the migration's error).</param>
/// <param name="Encoding">The encodings of the next pass (for a switch-over, of the final pass's pages too, until re-planned).</param>
/// <param name="Throttle">The throttle per vCPU from now on; null leaves it as it is.</param>
public sealed record PassPlan(PassAction Action, string Reason, PassEncoding Encoding, ThrottlePlan? Throttle);

/// <summary>How the pages of a pass are encoded.</summary>
/// <param name="Xbzrle">Send pages as XBZRLE deltas where the cache holds their last version.</param>
/// <param name="XbzrleCacheBytes">The cache size (0 with XBZRLE off).</param>
/// <param name="XbzrleCacheReason">Why the cache has that size, for the log when it changes; null when there is no cache.</param>
/// <param name="CompressMethod">The codec that compresses pages (zlib, zstd, lz4), or null for none.</param>
/// <param name="CompressLevel">Its level.</param>
/// <param name="CompressThreads">Its worker threads.</param>
public sealed record PassEncoding(bool Xbzrle, ulong XbzrleCacheBytes, string? XbzrleCacheReason, string? CompressMethod, int CompressLevel, int CompressThreads)
{
    /// <summary>Whole pages, no cache, no compression.</summary>
    public static PassEncoding Plain { get; } = new(false, 0, null, null, 0, 0);

    /// <summary>Threads that encode XBZRLE (1: the migration thread; more are used only without compression).</summary>
    public int XbzrleThreads { get; init; } = 1;

    /// <summary>Why that many, for the log when it changes; null when the planner did not say.</summary>
    public string? XbzrleThreadsReason { get; init; }
}
