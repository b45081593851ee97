using Tern.Migration.Api;

namespace Tern.Migration.Throttle;

/// <summary>
/// Chooses the throttle controller the operator asked for (<c>auto-converge</c> with the computed or QEMU's step
/// throttle, or <c>dirty-limit</c>) and asks it for the next period's plan. It decides only: the
/// <see cref="ThrottleGovernor"/> applies. One per migration (QEMU's step throttle counts periods).
/// </summary>
public sealed class ThrottlePlanner
{
    private IThrottleController? controller;
    private string? controllerKind;

    /// <summary>
    /// The throttle for the period after the one <paramref name="measured"/> describes; null to leave it as it is
    /// (no throttling asked for, and none in force).
    /// </summary>
    public ThrottlePlan? Next(MigrationParameters parameters, bool autoConverge, bool dirtyLimit, ThrottleMeasurement measured)
    {
        var next = ControllerFor(parameters, autoConverge, dirtyLimit, measured.VcpuCount);
        if (next is null)
            return controller is not null && measured.ThrottlePercent.Any(p => p > 0)
                ? ThrottlePlan.None(measured.VcpuCount, "throttling was switched off")
                : null;
        return next.Next(measured, SettingsFrom(parameters));
    }

    private IThrottleController? ControllerFor(MigrationParameters parameters, bool autoConverge, bool dirtyLimit, int vcpus)
    {
        string? kind = dirtyLimit ? $"dirty-limit {parameters.VcpuDirtyLimit}" : autoConverge ? parameters.ThrottleMethod : null;
        if (kind is null) return null;
        if (kind != controllerKind)
        {
            controllerKind = kind;
            controller = dirtyLimit
                ? new DirtyLimitThrottle(Enumerable.Repeat<double?>(parameters.VcpuDirtyLimit, vcpus).ToArray())
                : parameters.ThrottleMethod == "step" ? new QemuStepThrottle() : new ComputedThrottle();
        }
        return controller;
    }

    private static ThrottleSettings SettingsFrom(MigrationParameters p) => new()
    {
        TriggerThresholdPercent = p.ThrottleTriggerThreshold,
        InitialPercent = p.CpuThrottleInitial,
        IncrementPercent = p.CpuThrottleIncrement,
        Tailslow = p.CpuThrottleTailslow,
        MaxPercent = p.MaxCpuThrottle,
    };
}
