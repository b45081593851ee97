namespace Tern.Control;

/// <summary>
/// What <c>x-query-guest</c> reports: the guest's workload, run state, heartbeats so far and each vCPU's progress
/// counter (writes done, read from guest memory). Two readings a second apart give the guest's rates.
/// </summary>
public sealed record GuestStatus(string Workload, string Status, long Heartbeats, IReadOnlyList<ulong> Progress);
