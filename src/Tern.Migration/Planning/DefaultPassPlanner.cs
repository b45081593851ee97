using System.Globalization;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Throttle;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Planning;

/// <summary>
/// Tern's own planner, made of the pure decisions: the encodings the operator switched on (within what the
/// destination accepted) with the XBZRLE cache sized by <see cref="XbzrleCacheSizer"/>, the throttle of the chosen
/// controller (<see cref="ThrottlePlanner"/>), and the action from <see cref="ConvergencePolicy"/>: switch over once
/// the rest fits the downtime limit, abort when <c>x-timeout</c> has passed, else continue. One per migration.
/// </summary>
public sealed class DefaultPassPlanner : IPassPlanner
{
    private readonly ThrottlePlanner throttle = new();

    public PassPlan Plan(PlanInputs inputs)
    {
        var encoding = EncodingFor(inputs);
        if (inputs.Final) return new PassPlan(PassAction.SwitchOver, "the final pass: the guest is paused", encoding, null);
        if (inputs.Latest is null) return new PassPlan(PassAction.Continue, "the first pass sends all of RAM", encoding, null);

        var throttlePlan = inputs.SyncPeriod is { } measured
            ? throttle.Next(inputs.Parameters, inputs.IsEnabled(MigrationCapability.AutoConverge), inputs.IsEnabled(MigrationCapability.DirtyLimit), measured)
            : null;
        var (action, reason) = Action(inputs);
        return new PassPlan(action, reason, encoding, throttlePlan);
    }

    /// <summary>Switch over, abort on <c>x-timeout</c>, or continue, and why.</summary>
    private static (PassAction, string) Action(PlanInputs inputs)
    {
        var p = inputs.Parameters;
        if (inputs.Convergence is not { } s) return (PassAction.Continue, "no dirty sync was measured after the last pass");
        var expected = ConvergencePolicy.ExpectedDowntime(s);
        string remaining = expected is { } e
            ? Invariant($"{s.RemainingPages} dirty pages would take {(long)e.TotalMilliseconds} ms to send")
            : $"{s.RemainingPages} dirty pages, the bandwidth is not measured yet";
        bool pastTimeout = p.TimeoutMs > 0 && inputs.Elapsed.TotalMilliseconds > p.TimeoutMs;
        if (ConvergencePolicy.ShouldSwitchOver(s))
            return (PassAction.SwitchOver, $"{remaining}, within the {p.DowntimeLimitMs} ms downtime limit");
        if (ConvergencePolicy.FitsLimit(s))
        {
            // Within the limit, but one more live pass would at least halve the stop: worth it, unless x-timeout is up.
            double next = expected!.Value.TotalMilliseconds * ConvergencePolicy.NextStopRatio(s);
            return pastTimeout
                ? (PassAction.SwitchOver, $"{remaining}, within the {p.DowntimeLimitMs} ms downtime limit; x-timeout has passed, so no more live passes")
                : (PassAction.Continue, Invariant($"{remaining}, within the {p.DowntimeLimitMs} ms downtime limit, but one more live pass would leave about {next:0} ms"));
        }
        if (pastTimeout)
            return (PassAction.Abort, Invariant($"the migration did not converge within {p.TimeoutMs / 1000.0:0.#} s (x-timeout); ") +
                $"{s.RemainingPages} pages were still dirty and would take {(expected is { } d ? (long)d.TotalMilliseconds : -1)} ms to send");
        if (!ConvergencePolicy.IsConverging(s))
            return (PassAction.Continue, Invariant($"{remaining}, above the {p.DowntimeLimitMs} ms downtime limit, and not converging: ") + ConvergencePolicy.WhyNotConverging(s));
        return (PassAction.Continue, expected is null ? remaining : $"{remaining}, above the {p.DowntimeLimitMs} ms downtime limit");
    }

    /// <summary>
    /// The operator's encodings now (a capability switched on or off during the migration takes effect at the next
    /// pass), within what was negotiated, with the XBZRLE cache fitted to the measured working set. The final pass
    /// runs with the guest stopped and keeps the cache as it is: a cache made or resized there starts empty, so every
    /// page would miss, be copied into it and still go whole, which only lengthens the stop (a stride guest's final
    /// pass took 68-97 ms that way against 22 ms plain). Without a cache yet, the final pass goes without XBZRLE.
    /// </summary>
    private static PassEncoding EncodingFor(PlanInputs inputs)
    {
        var p = inputs.Parameters;
        bool xbzrle = inputs.IsEnabled(MigrationCapability.Xbzrle) && (inputs.Negotiated & ProtocolCapability.Xbzrle) != 0;
        bool compress = inputs.IsEnabled(MigrationCapability.Compress)
            && (inputs.Negotiated & ProtocolCapabilities.ForCompressMethod(p.CompressMethod)) != 0;
        var (cacheBytes, cacheReason) = !xbzrle ? (0UL, null)
            : inputs.Final ? (inputs.XbzrleCacheBytes, null)
            : XbzrleCacheSize(inputs);
        var (threads, threadsReason) = xbzrle && cacheBytes > 0 ? XbzrleThreads(inputs, compress) : (1, null);
        return new PassEncoding(xbzrle && cacheBytes > 0, cacheBytes, cacheReason,
            compress ? p.CompressMethod : null, p.CompressLevel, p.CompressThreads)
        {
            XbzrleThreads = threads,
            XbzrleThreadsReason = threadsReason,
        };
    }

    /// <summary>
    /// <see cref="XbzrleThreadChoice"/> from the last pass that encoded XBZRLE (the figures of a pass without it say
    /// nothing about its cost); one thread with compression, whose pipeline takes XBZRLE's whole pages on the
    /// migration thread.
    /// </summary>
    private static (int, string) XbzrleThreads(PlanInputs inputs, bool compress)
    {
        if (compress) return (1, "compression is on: XBZRLE runs on the migration thread");
        // The final pass is planned without a latest report: its figures are the last live pass's, in the history.
        var measured = inputs.Latest is { XbzrleThreads: > 0 } latest ? latest : inputs.History.LastOrDefault(p => p.XbzrleThreads > 0);
        return XbzrleThreadChoice.ForNextPass(inputs.Parameters.XbzrleThreads, inputs.HostCores,
            measured?.EncodeBytesPerThreadSecond, measured?.LinkBytesPerSecond, inputs.Parameters.MaxBandwidth);
    }

    /// <summary>
    /// The configured xbzrle-cache-size, or (0: automatic) a size fitted to the pages the guest has written since the
    /// migration began (<see cref="Xbzrle.MigrationWorkingSet"/>); never above the host memory budget. Before any working set is measured (the first pass,
    /// when the cache could not hit anyway) there is no cache; once there is one, a pass with no working set keeps it.
    /// </summary>
    private static (ulong, string?) XbzrleCacheSize(PlanInputs inputs)
    {
        var p = inputs.Parameters;
        if (p.XbzrleCacheSize == 0 && inputs.WorkingSetPages == 0 && inputs.XbzrleCacheBytes == 0) return (0, null);
        var decision = XbzrleCacheSizer.ForNextPass(p.XbzrleCacheSize, p.MemoryBudget, inputs.HostMemory,
            (ulong)inputs.WorkingSetPages, inputs.GuestRamBytes, inputs.XbzrleCacheBytes, inputs.XbzrleCacheHeldBytes);
        return (decision.Bytes, decision.Reason);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
