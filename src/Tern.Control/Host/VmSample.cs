using Tern.Migration.Api;

namespace Tern.Control.Host;

/// <summary>What a VM process shows its operator once a second.</summary>
/// <param name="Heartbeats">Heartbeats received since the VM started here.</param>
/// <param name="HeartbeatsPerSecond">Recent heartbeat rate (about 1000 per vCPU for a healthy guest).</param>
/// <param name="Progress">The workload's counters (writes done per vCPU), when the workload is known.</param>
/// <param name="ProgressPerSecond">Recent rate of the counters' sum (writes a second).</param>
/// <param name="DirtyPagesPerSecond">Pages dirtied a second, measured through the dirty log (null while a migration owns it).</param>
public sealed record VmSample(
    RunState State,
    string Workload,
    long Heartbeats,
    double HeartbeatsPerSecond,
    ulong[]? Progress,
    double? ProgressPerSecond,
    double? DirtyPagesPerSecond,
    string? Note,
    MigrationInfo Migration);
