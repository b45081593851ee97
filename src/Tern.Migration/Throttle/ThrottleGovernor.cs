using Tern.Machine;

namespace Tern.Migration.Throttle;

/// <summary>
/// Applies the throttle decisions to a machine during one migration: after every dirty sync the engine hands it the
/// plan's throttle (decided by the pass planner, see <see cref="ThrottlePlanner"/>), it sets each vCPU's throttle to
/// it, and keeps what it applied for <c>query-migrate</c>. It is the only part that throttles the machine.
/// <see cref="Release"/> gives the guest its full speed back and is called whenever the migration ends.
/// The operator's per-vCPU dirty limits (<c>set-vcpu-dirty-limit</c>) stay in force during the migration: the
/// migration owns the dirty tracker then, so each sync's measurement also goes to <paramref name="operatorLimits"/>
/// (<see cref="Measured"/>), and each vCPU runs under the larger of the migration's throttle and its limit's (see
/// <see cref="VcpuDirtyLimits"/>).
/// </summary>
public sealed class ThrottleGovernor(IVirtualMachine machine, VcpuDirtyLimits? operatorLimits = null)
{
    private readonly object gate = new();
    private readonly VcpuDirtyLimits limits = operatorLimits ?? new VcpuDirtyLimits();
    private bool engaged;
    private int[] applied = new int[machine.Description.VcpuCount];
    private string reason = "";
    private bool released;
    private int peak;

    /// <summary>Raised with a line for the log when the throttle changes.</summary>
    public event Action<string>? Changed;

    /// <summary>The highest throttle of any vCPU now (QEMU's <c>cpu-throttle-percentage</c>); null when none was ever applied.</summary>
    public int? MaxPercent { get { lock (gate) return engaged ? applied.Max() : null; } }

    /// <summary>The highest throttle any vCPU ran under during the migration.</summary>
    public int Peak { get { lock (gate) return peak; } }

    /// <summary>The migration's own throttle of each vCPU now, in percent (an operator's dirty limit may hold a vCPU lower).</summary>
    public IReadOnlyList<int> PerVcpu { get { lock (gate) return applied.ToArray(); } }

    /// <summary>The throttle each vCPU actually runs under: the larger of the migration's and its dirty limit's.</summary>
    public IReadOnlyList<int> InForce => limits.Effective(machine);

    /// <summary>
    /// <c>dirty-limit-ring-full-time</c>: how long a vCPU takes on average to fill its dirty ring at the rates the last
    /// sync measured, in µs; null without dirty rings.
    /// </summary>
    public long? RingFullTimeUs => machine.DirtyTracker is Tern.Memory.Dirty.KvmDirtyRingTracker ring
        ? DirtyRingFullTime.Microseconds(ring.RingEntries, limits.CurrentBytesPerSecond) : null;

    /// <summary>Why the throttle is what it is, in the operator's words.</summary>
    public string Reason { get { lock (gate) return reason; } }

    /// <summary>Feeds a sync period's measurement to the operator's dirty limits, which re-decide their share.</summary>
    public void Measured(ThrottleMeasurement measured)
    {
        lock (gate)
        {
            if (released) return;
            limits.Measured(machine, measured);
        }
    }

    /// <summary>Applies a plan's throttle (one entry per vCPU) from now on; nothing once released.</summary>
    public void Apply(ThrottlePlan plan)
    {
        lock (gate)
        {
            if (released) return;
            if (plan.PercentPerVcpu.Count != applied.Length)
                throw new ArgumentException($"a throttle plan for {plan.PercentPerVcpu.Count} vCPUs cannot apply to a machine with {applied.Length}");
            engaged = true;
            Apply(plan.PercentPerVcpu.Select(p => Math.Clamp(p, 0, 99)).ToArray(), plan.Reason);
        }
    }

    /// <summary>
    /// Drops the migration's throttle (a vCPU keeps only what its operator's dirty limit imposes); later plans change
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

    private void Apply(int[] plan, string why, string? announce = null)
    {
        bool changed = !plan.AsSpan().SequenceEqual(applied);
        limits.SetMigrationThrottle(machine, plan);
        applied = plan;
        reason = why;
        peak = Math.Max(peak, plan.Length == 0 ? 0 : plan.Max());
        if (changed) Changed?.Invoke($"throttle {string.Join("/", plan.Select(p => $"{p}%"))}: {announce ?? why}");
    }
}
