using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Throttle;
using Tern.Os;

namespace Tern.Migration.Planning;

/// <summary>
/// Everything a <see cref="IPassPlanner"/> may base the next pass on: what the last pass and the sync after it
/// measured, the passes before, the operator's settings and what the destination accepted. Plain values only, read
/// by the engine before it asks, so that a plan is a function of these and can be replayed from a recorded history.
/// </summary>
public sealed record PlanInputs
{
    /// <summary>The pass the plan is for (1 is the first, which sends all of RAM).</summary>
    public required uint Pass { get; init; }
    /// <summary>The guest is paused and the pass is the final one (the switch-over): only its encoding is still to choose.</summary>
    public bool Final { get; init; }
    /// <summary>The pass just sent and the sync after it, without a decision yet; null before the first pass.</summary>
    public PassReport? Latest { get; init; }
    /// <summary>The passes before <see cref="Latest"/>, oldest first (bounded, see <see cref="Engine.PassHistory"/>).</summary>
    public IReadOnlyList<PassReport> History { get; init; } = [];
    /// <summary>The operator's parameters now.</summary>
    public required MigrationParameters Parameters { get; init; }
    /// <summary>The capabilities the operator has switched on now.</summary>
    public IReadOnlySet<MigrationCapability> Capabilities { get; init; } = new HashSet<MigrationCapability>();
    /// <summary>What the destination accepted in the handshake: an encoding outside it cannot be used.</summary>
    public ProtocolCapability Negotiated { get; init; }
    /// <summary>The sync period that <see cref="Latest"/> closed, as the throttles measure it; null before the first pass and for the final one.</summary>
    public ThrottleMeasurement? SyncPeriod { get; init; }
    /// <summary>Pages dirtied in both of the last two passes: the working set an XBZRLE cache can help with.</summary>
    public long WorkingSetPages { get; init; }
    /// <summary>The XBZRLE cache's size now (0: none).</summary>
    public ulong XbzrleCacheBytes { get; init; }
    /// <summary>The host memory the cache's storage holds now.</summary>
    public ulong XbzrleCacheHeldBytes { get; init; }
    public ulong GuestRamBytes { get; init; }
    /// <summary>The host's memory when the engine asked.</summary>
    public HostMemoryInfo HostMemory { get; init; } = new(0, 0, 0);
    /// <summary>The host's cores (the most threads that can encode XBZRLE at once).</summary>
    public int HostCores { get; init; } = 1;
    /// <summary>Time since the migration started.</summary>
    public TimeSpan Elapsed { get; init; }

    public bool IsEnabled(MigrationCapability capability) => Capabilities.Contains(capability);

    /// <summary>The convergence decisions' view of <see cref="Latest"/>; null before the first pass or without a sync after it.</summary>
    public ConvergenceSnapshot? Convergence => Latest is { RemainingPages: { } remaining, DirtyPagesPerSecond: { } rate } r
        ? new ConvergenceSnapshot(r.Pass, remaining, r.WireBytesPerPage, r.EstimatedBytesPerSecond, rate, Parameters.DowntimeLimitMs,
            r.NormalPages + r.ZeroPages + r.XbzrlePages + r.CompressedPages)
        : null;
}
