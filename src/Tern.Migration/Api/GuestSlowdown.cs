namespace Tern.Migration.Api;

/// <summary>
/// How much a migration slowed the guest, measured from the guest's own progress counters (writes, iterations or
/// ticks, per vCPU): the progress rate in a window just before the migration started against the rate while the
/// guest ran on the source during the migration (its live phase; the downtime is reported separately).
/// </summary>
/// <param name="ProgressBeforePerSecond"><c>x-guest-progress-before</c>: progress units per second, summed over the measured vCPUs.</param>
/// <param name="ProgressDuringPerSecond"><c>x-guest-progress-during</c>: the same during the migration.</param>
/// <param name="Slowdown"><c>x-guest-slowdown</c>: the mean over the measured vCPUs of 1 - during / before (0 = unhurt,
/// 1 = stalled); each vCPU counts equally, so a fast computing vCPU cannot hide a stalled writing one. Slightly
/// negative when the guest ran faster during the migration than before (noise).</param>
/// <param name="VcpuSlowdowns"><c>x-guest-slowdown-vcpus</c>: each vCPU's 1 - during / before; null for a vCPU that is not
/// measured (idle, whose timer ticks say nothing about speed, or one that made no progress before).</param>
/// <param name="BeforeSeconds">Length of the window before the migration.</param>
/// <param name="DuringSeconds">Length of the window during it.</param>
public sealed record GuestSlowdown(
    double ProgressBeforePerSecond,
    double ProgressDuringPerSecond,
    double Slowdown,
    IReadOnlyList<double?> VcpuSlowdowns,
    double BeforeSeconds,
    double DuringSeconds);
