using Tern.Machine;

namespace Tern.Migration.Throttle;

/// <summary>One vCPU's dirty limit as <c>query-vcpu-dirty-limit</c> reports it (QAPI <c>DirtyLimitInfo</c>), in MB/s.</summary>
/// <param name="CurrentRate">The vCPU's dirty rate over the last measured period (under its throttle); 0 until measured.</param>
public readonly record struct VcpuDirtyLimit(int CpuIndex, ulong LimitRate, ulong CurrentRate);

/// <summary>
/// The operator's per-vCPU dirty limits (<c>set-vcpu-dirty-limit</c>, in MB/s of 10^6 bytes as QEMU counts them) and
/// the throttle each vCPU of the machine runs under. Two things decide a vCPU's throttle: its dirty limit, from its
/// measured dirty rate (<see cref="Measured"/>: by the VM host's limiter outside a migration, by the migration's own
/// syncs during one), and a migration's throttle (auto-converge or the <c>dirty-limit</c> capability,
/// <see cref="SetMigrationThrottle"/>). The vCPU runs under the larger of the two. The limit's share is dropped the
/// moment the limit is cancelled and the migration's when it releases it, so no throttle outlives what asked for it.
/// The limits belong to the machine they were set on; a new machine (one that arrived by migration) starts without.
/// </summary>
public sealed class VcpuDirtyLimits
{
    /// <summary>The operator's limits are not bound by <c>max-cpu-throttle</c> (QEMU's dirty limit is not either).</summary>
    private static readonly ThrottleSettings LimitSettings = new() { MaxPercent = 99 };

    private readonly object gate = new();
    private IVirtualMachine? machine;
    private double?[] limits = [];
    private int[] limitPercent = [];
    private int[] migrationPercent = [];
    private int[] effective = [];
    private double[] currentMegabytesPerSecond = [];

    /// <summary>Raised with a line for the log when a limit or the throttle it imposes changes.</summary>
    public event Action<string>? Changed;

    /// <summary>True while any vCPU has a limit.</summary>
    public bool Any { get { lock (gate) return limits.Any(l => l is not null); } }

    /// <summary>Each vCPU's limit in MB/s, null for none (empty before any machine was throttled).</summary>
    public IReadOnlyList<double?> Limits { get { lock (gate) return limits.ToArray(); } }

    /// <summary>Each vCPU's dirty rate over the last measured period, in bytes a second (zeros until measured).</summary>
    public IReadOnlyList<double> CurrentBytesPerSecond { get { lock (gate) return currentMegabytesPerSecond.Select(r => r * 1e6).ToArray(); } }

    /// <summary>Sets the limit of one vCPU, or of every vCPU when <paramref name="cpuIndex"/> is null. It bites at the next measurement.</summary>
    public void Set(IVirtualMachine vm, int? cpuIndex, double megabytesPerSecond)
    {
        if (!(megabytesPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(megabytesPerSecond), megabytesPerSecond, "a dirty limit is above 0 MB/s");
        lock (gate)
        {
            Bind(vm);
            foreach (int v in Selected(cpuIndex)) limits[v] = megabytesPerSecond;
        }
        Changed?.Invoke($"dirty limit {megabytesPerSecond:0.#} MB/s on {Which(cpuIndex)}");
    }

    /// <summary>Removes the limit of one vCPU (or of all) and, at once, the throttle it imposed.</summary>
    public void Cancel(IVirtualMachine vm, int? cpuIndex)
    {
        lock (gate)
        {
            Bind(vm);
            foreach (int v in Selected(cpuIndex))
            {
                limits[v] = null;
                limitPercent[v] = 0;
            }
            Apply();
        }
        Changed?.Invoke($"dirty limit cancelled on {Which(cpuIndex)}");
    }

    /// <summary>The vCPUs with a limit, for <c>query-vcpu-dirty-limit</c>.</summary>
    public IReadOnlyList<VcpuDirtyLimit> Query()
    {
        lock (gate)
        {
            var list = new List<VcpuDirtyLimit>();
            for (int v = 0; v < limits.Length; v++)
                if (limits[v] is { } limit)
                    list.Add(new VcpuDirtyLimit(v, (ulong)Math.Round(limit), (ulong)Math.Round(currentMegabytesPerSecond[v])));
            return list;
        }
    }

    /// <summary>The throttle (percent) each vCPU of <paramref name="vm"/> runs under now.</summary>
    public IReadOnlyList<int> Effective(IVirtualMachine vm)
    {
        lock (gate)
        {
            Bind(vm);
            return effective.ToArray();
        }
    }

    /// <summary>
    /// Takes a period's per-vCPU dirty counts (the <paramref name="measured"/> throttle must be what the vCPUs ran
    /// under, <see cref="Effective"/>) and throttles each limited vCPU just enough to bring it to its limit
    /// (<see cref="DirtyLimitThrottle"/>). Returns why, or null when no vCPU has a limit.
    /// </summary>
    public string? Measured(IVirtualMachine vm, ThrottleMeasurement measured)
    {
        string reason;
        bool changed;
        lock (gate)
        {
            Bind(vm);
            double seconds = measured.Period.TotalSeconds;
            if (measured.DirtyPagesPerVcpu is { } per && per.Count == limits.Length && seconds > 0)
                for (int v = 0; v < per.Count; v++) currentMegabytesPerSecond[v] = per[v] * (double)Tern.Memory.PageSize.Bytes / seconds / 1e6;
            if (!limits.Any(l => l is not null)) return null;
            var plan = new DirtyLimitThrottle(limits.ToArray()).Next(measured, LimitSettings);
            // A plan made from a stale measurement must not throttle a vCPU whose limit was cancelled meanwhile.
            for (int v = 0; v < limits.Length; v++) limitPercent[v] = limits[v] is null ? 0 : plan.PercentPerVcpu[v];
            var before = effective.ToArray();
            Apply();
            changed = !before.AsSpan().SequenceEqual(effective);
            reason = plan.Reason;
        }
        if (changed) Changed?.Invoke($"dirty limit: {reason}");
        return reason;
    }

    /// <summary>A migration's own throttle for each vCPU (zeros to release it); each vCPU runs under the larger of it and its limit's.</summary>
    public void SetMigrationThrottle(IVirtualMachine vm, IReadOnlyList<int> percentPerVcpu)
    {
        lock (gate)
        {
            Bind(vm);
            for (int v = 0; v < migrationPercent.Length; v++) migrationPercent[v] = v < percentPerVcpu.Count ? percentPerVcpu[v] : 0;
            Apply();
        }
    }

    /// <summary>Starts afresh for a machine other than the one the limits were set on. Call with the gate held.</summary>
    private void Bind(IVirtualMachine vm)
    {
        if (ReferenceEquals(machine, vm)) return;
        machine = vm;
        int n = vm.Description.VcpuCount;
        limits = new double?[n];
        limitPercent = new int[n];
        migrationPercent = new int[n];
        effective = new int[n];
        currentMegabytesPerSecond = new double[n];
    }

    /// <summary>Sets each vCPU's throttle to the larger of its two shares. Call with the gate held.</summary>
    private void Apply()
    {
        for (int v = 0; v < effective.Length; v++)
        {
            int next = Math.Max(limits[v] is null ? 0 : limitPercent[v], migrationPercent[v]);
            if (next == effective[v]) continue;
            machine!.SetThrottle(v, next / 100.0);
            effective[v] = next;
        }
    }

    private IEnumerable<int> Selected(int? cpuIndex)
    {
        if (cpuIndex is { } v)
        {
            if (v < 0 || v >= limits.Length) throw new ArgumentOutOfRangeException(nameof(cpuIndex), v, $"the VM has vCPUs 0 to {limits.Length - 1}");
            return [v];
        }
        return Enumerable.Range(0, limits.Length);
    }

    private static string Which(int? cpuIndex) => cpuIndex is { } v ? $"vCPU {v}" : "every vCPU";
}
