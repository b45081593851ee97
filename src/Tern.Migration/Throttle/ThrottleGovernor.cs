using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;

namespace Tern.Migration.Throttle;

/// <summary>
/// Applies the throttle decisions to a machine during one migration: after every dirty sync it hands the period's
/// measurement to the controller the operator chose (<c>auto-converge</c> with the computed or QEMU's step throttle,
/// or <c>dirty-limit</c>), sets each vCPU's throttle to the plan, and keeps what it decided for <c>query-migrate</c>.
/// The decisions themselves are pure (<see cref="IThrottleController"/>); this class only measures and applies.
/// <see cref="Release"/> gives the guest its full speed back and is called whenever the migration ends.
/// The operator's per-vCPU dirty limits (<c>set-vcpu-dirty-limit</c>) stay in force during the migration: the
/// migration owns the dirty tracker then, so each sync's per-vCPU counts also go to <paramref name="operatorLimits"/>,
/// and each vCPU runs under the larger of the migration's throttle and its limit's (see <see cref="VcpuDirtyLimits"/>).
/// </summary>
public sealed class ThrottleGovernor(IVirtualMachine machine, VcpuDirtyLimits? operatorLimits = null)
{
    private readonly object gate = new();
    private readonly VcpuDirtyLimits limits = operatorLimits ?? new VcpuDirtyLimits();
    private IThrottleController? controller;
    private string? controllerKind;
    private int[] applied = new int[machine.Description.VcpuCount];
    private string reason = "";
    private bool released;
    private int peak;

    /// <summary>Raised with a line for the log when the throttle changes.</summary>
    public event Action<string>? Changed;

    /// <summary>The highest throttle of any vCPU now (QEMU's <c>cpu-throttle-percentage</c>); null when none was ever applied.</summary>
    public int? MaxPercent { get { lock (gate) return controller is null ? null : applied.Max(); } }

    /// <summary>The highest throttle any vCPU ran under during the migration.</summary>
    public int Peak { get { lock (gate) return peak; } }

    /// <summary>The migration's own throttle of each vCPU now, in percent (an operator's dirty limit may hold a vCPU lower).</summary>
    public IReadOnlyList<int> PerVcpu { get { lock (gate) return applied.ToArray(); } }

    /// <summary>
    /// <c>dirty-limit-ring-full-time</c>: how long a vCPU takes on average to fill its dirty ring at the rates the last
    /// sync measured, in µs; null without dirty rings.
    /// </summary>
    public long? RingFullTimeUs => machine.DirtyTracker is Tern.Memory.Dirty.KvmDirtyRingTracker ring
        ? DirtyRingFullTime.Microseconds(ring.RingEntries, limits.CurrentBytesPerSecond) : null;

    /// <summary>Why the throttle is what it is, in the operator's words.</summary>
    public string Reason { get { lock (gate) return reason; } }

    /// <summary>
    /// Decides and applies the throttle for the next period from the one that just ended.
    /// </summary>
    /// <param name="sync">What the dirty sync at the end of the period found.</param>
    /// <param name="period">How long the period lasted.</param>
    /// <param name="wireBytes">Bytes sent during the period.</param>
    public void AfterSync(MigrationParameters parameters, bool autoConverge, bool dirtyLimit, Tern.Memory.Dirty.DirtySyncResult sync,
        TimeSpan period, long wireBytes, double wireBytesPerPage, double bandwidthBytesPerSecond)
    {
        lock (gate)
        {
            if (released) return;
            // Both decisions see the throttle the vCPUs actually ran under, whichever of the two imposed it.
            var measured = new ThrottleMeasurement(period, wireBytes, sync.DirtyPages, sync.PerVcpuPages, limits.Effective(machine).ToArray(),
                wireBytesPerPage, bandwidthBytesPerSecond, parameters.DowntimeLimitMs);
            limits.Measured(machine, measured);
            var next = ControllerFor(parameters, autoConverge, dirtyLimit);
            if (next is null)
            {
                if (controller is not null && applied.Any(p => p > 0)) Apply(new int[applied.Length], "throttling was switched off");
                return;
            }
            var plan = next.Next(measured, SettingsFrom(parameters));
            Apply(plan.PercentPerVcpu.ToArray(), plan.Reason);
        }
    }

    /// <summary>
    /// Drops the migration's throttle (a vCPU keeps only what its operator's dirty limit imposes); later syncs change
    /// nothing. Safe to call more than once.
    /// </summary>
    public void Release()
    {
        lock (gate)
        {
            released = true;
            // The last decision's reason stays: it says what the migration needed, which is what a report wants.
            if (applied.Any(p => p > 0)) Apply(new int[applied.Length], reason, announce: "the migration ended");
        }
    }

    private IThrottleController? ControllerFor(MigrationParameters parameters, bool autoConverge, bool dirtyLimit)
    {
        string? kind = dirtyLimit ? $"dirty-limit {parameters.VcpuDirtyLimit}" : autoConverge ? parameters.ThrottleMethod : null;
        if (kind is null) return null;
        if (kind != controllerKind)
        {
            controllerKind = kind;
            controller = dirtyLimit
                ? new DirtyLimitThrottle(Enumerable.Repeat<double?>(parameters.VcpuDirtyLimit, applied.Length).ToArray())
                : parameters.ThrottleMethod == "step" ? new QemuStepThrottle() : new ComputedThrottle();
        }
        return controller;
    }

    private void Apply(int[] plan, string why, string? announce = null)
    {
        bool changed = !plan.AsSpan().SequenceEqual(applied);
        limits.SetMigrationThrottle(machine, plan);
        applied = plan;
        reason = why;
        peak = Math.Max(peak, plan.Length == 0 ? 0 : plan.Max());
        if (changed) Changed?.Invoke($"throttle {string.Join("/", plan.Select(p => $"{p}%"))}: {announce ?? why}");
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
