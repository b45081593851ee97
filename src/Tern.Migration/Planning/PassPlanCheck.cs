using Tern.Migration.Api;
using Tern.Migration.Protocol;

namespace Tern.Migration.Planning;

/// <summary>What the engine checks before it applies a plan (a planner may be anyone's), and how a plan is reported.</summary>
public static class PassPlanCheck
{
    /// <summary>
    /// Why <paramref name="plan"/> cannot be applied to this migration, or null when it can. Post-copy needs the
    /// operator's consent (<paramref name="postcopyAllowed"/>: the <c>postcopy-ram</c> capability), whoever plans: after
    /// the switch, losing the source host loses the pages it still holds.
    /// </summary>
    public static string? Problem(PassPlan plan, ProtocolCapability negotiated, int vcpus, bool postcopyAllowed)
    {
        if (!Enum.IsDefined(plan.Action)) return $"it names no known action ({(int)plan.Action})";
        if (string.IsNullOrWhiteSpace(plan.Reason)) return "it gives no reason";
        if (plan.Action == PassAction.StartPostcopy && !postcopyAllowed)
            return "it asks for post-copy, which the operator did not allow (the postcopy-ram capability is off)";
        if (plan.Action == PassAction.StartPostcopy && (negotiated & ProtocolCapability.Postcopy) == 0)
            return "it asks for post-copy, which the destination did not accept";
        var e = plan.Encoding;
        if (e.Xbzrle && (negotiated & ProtocolCapability.Xbzrle) == 0) return "it asks for xbzrle, which the destination did not accept";
        if (e.Xbzrle && e.XbzrleCacheBytes == 0) return "it asks for xbzrle with no cache";
        if (e.XbzrleThreads is < 1 or > XbzrleThreadChoice.MaxThreads) return $"it asks for xbzrle on {e.XbzrleThreads} threads (1 to {XbzrleThreadChoice.MaxThreads})";
        if (e.CompressMethod is { } method)
        {
            if (method is not ("zstd" or "lz4" or "zlib")) return $"it asks for the unknown compression method '{method}' (zstd, lz4 or zlib)";
            if ((negotiated & ProtocolCapabilities.ForCompressMethod(method)) == 0) return $"it asks for {method} compression, which the destination did not accept";
            if (e.CompressThreads < 1) return $"it asks for {method} compression with {e.CompressThreads} threads";
        }
        if (plan.Throttle is { } t)
        {
            if (t.PercentPerVcpu.Count != vcpus) return $"its throttle names {t.PercentPerVcpu.Count} vCPUs, the guest has {vcpus}";
            if (t.PercentPerVcpu.Any(p => p is < 0 or > 99)) return $"its throttle {string.Join('/', t.PercentPerVcpu)} is outside 0-99 %";
        }
        return null;
    }

    /// <summary>The plan for pass <paramref name="pass"/> as <c>query-migrate</c>'s <c>x-plan</c> shows it.</summary>
    public static PlanInfo ToInfo(long pass, PassPlan plan) =>
        new(pass, plan.Action.ToQapi(), plan.Reason, plan.Encoding.Xbzrle, plan.Encoding.Xbzrle ? plan.Encoding.XbzrleCacheBytes : 0,
            plan.Encoding.CompressMethod, plan.Throttle?.PercentPerVcpu.ToArray(), plan.Throttle?.Reason)
        {
            XbzrleThreads = plan.Encoding.Xbzrle ? plan.Encoding.XbzrleThreads : 0,
            XbzrleThreadsReason = plan.Encoding.Xbzrle ? plan.Encoding.XbzrleThreadsReason : null,
        };
}
