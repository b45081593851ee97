using Tern.Memory.DirtyRate;
using Tern.Migration.Api;

namespace Tern.Control.Host;

/// <summary>What a VM process shows its operator once a second.</summary>
/// <param name="Heartbeats">Heartbeats received since the VM started here.</param>
/// <param name="HeartbeatsPerSecond">Recent heartbeat rate (about 1000 per vCPU for a healthy guest).</param>
/// <param name="Progress">The workload's counters (writes done per vCPU), when the workload is known.</param>
/// <param name="ProgressPerSecond">Recent rate of the counters' sum (writes a second).</param>
/// <param name="DirtyRate">Pages dirtied a second, estimated by page sampling (no dirty tracking); null on the first sample.</param>
public sealed record VmSample(
    RunState State,
    string Workload,
    long Heartbeats,
    double HeartbeatsPerSecond,
    ulong[]? Progress,
    double? ProgressPerSecond,
    DirtyRateEstimate? DirtyRate,
    string? Note,
    MigrationInfo Migration);
