namespace Tern.Migration.Api;

/// <summary>
/// <c>x-plan</c> in <c>query-migrate</c>: what the engine decided for the coming pass (its pass planner's latest
/// plan), apart from what the operator set: the action and why, the encodings and the throttle.
/// </summary>
/// <param name="Pass">The pass the plan is for.</param>
/// <param name="Action"><c>continue</c>, <c>switchover</c>, <c>postcopy</c> or <c>abort</c>.</param>
/// <param name="Reason">Why, in the operator's words.</param>
/// <param name="Xbzrle">The pass sends XBZRLE deltas.</param>
/// <param name="XbzrleCacheBytes">The XBZRLE cache size (0 without).</param>
/// <param name="CompressMethod">The codec compressing pages, or null.</param>
/// <param name="ThrottlePercent">The throttle per vCPU the plan set, or null when it left the throttle as it was.</param>
/// <param name="ThrottleReason">Why that throttle.</param>
public sealed record PlanInfo(long Pass, string Action, string Reason, bool Xbzrle, ulong XbzrleCacheBytes, string? CompressMethod,
    IReadOnlyList<int>? ThrottlePercent, string? ThrottleReason)
{
    /// <summary>Threads encoding XBZRLE (0 without XBZRLE).</summary>
    public int XbzrleThreads { get; init; }
    /// <summary>Why that many.</summary>
    public string? XbzrleThreadsReason { get; init; }
}
