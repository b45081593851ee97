using Tern.Machine;

namespace Tern.Migration.Throttle;

/// <summary>
/// Applies the throttle decisions to a machine during one migration: after every dirty sync the engine hands it the
/// plan's throttle (decided by the pass planner, see <see cref="ThrottlePlanner"/>), it sets each vCPU's throttle to
/// it, and keeps what it applied for <c>query-migrate</c>. It is the only part that throttles the machine.
/// <see cref="Release"/> gives the guest its full speed back and is called whenever the migration ends.
/// </summary>
public sealed class ThrottleGovernor(IVirtualMachine machine)
{
    private readonly object gate = new();
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

    /// <summary>Each vCPU's throttle now, in percent.</summary>
    public IReadOnlyList<int> PerVcpu { get { lock (gate) return applied.ToArray(); } }

    /// <summary>Why the throttle is what it is, in the operator's words.</summary>
    public string Reason { get { lock (gate) return reason; } }

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

    /// <summary>Gives every vCPU its full speed back; later plans change nothing. Safe to call more than once.</summary>
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
        for (int v = 0; v < plan.Length; v++)
            if (plan[v] != applied[v]) machine.SetThrottle(v, plan[v] / 100.0);
        applied = plan;
        reason = why;
        peak = Math.Max(peak, plan.Length == 0 ? 0 : plan.Max());
        if (changed) Changed?.Invoke($"throttle {string.Join("/", plan.Select(p => $"{p}%"))}: {announce ?? why}");
    }
}
