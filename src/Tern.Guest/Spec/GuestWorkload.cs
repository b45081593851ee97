namespace Tern.Guest;

/// <summary>
/// What every vCPU of a built-in guest does: one <see cref="WorkloadSpec"/> shared by all vCPUs (each writes its
/// slice of the one working set), or one spec per vCPU. Written and read as a string:
/// <code>
///   workload := spec                      every vCPU runs spec, on its slice of spec's working set
///             | spec ';' spec { ';' spec } vCPU v runs the v-th spec on a working set of its own
/// </code>
/// Examples: <c>seq:ws=64M</c>; <c>seq:ws=256M;compute</c> (vCPU 0 dirties 256 MiB, vCPU 1 computes).
/// A per-vCPU list must have exactly one entry per vCPU (<see cref="CheckVcpuCount"/>). The string is what travels
/// in a migration's machine description, so <see cref="Parse"/> and <see cref="ToString"/> round-trip.
/// </summary>
public sealed class GuestWorkload : IEquatable<GuestWorkload>
{
    /// <summary>Separates the per-vCPU entries of a workload string.</summary>
    public const char VcpuSeparator = ';';

    /// <summary>Longest workload string: what the parameter block holds (and under the migration protocol's string limit).</summary>
    public const int MaxTextLength = ParameterBlock.SpecCapacity;

    private readonly WorkloadSpec[] specs;

    private GuestWorkload(WorkloadSpec[] specs, bool perVcpu)
    {
        this.specs = specs;
        IsPerVcpu = perVcpu;
    }

    /// <summary>Every vCPU runs <paramref name="spec"/> on its slice of the spec's working set.</summary>
    public static GuestWorkload Uniform(WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new GuestWorkload([spec], perVcpu: false);
    }

    /// <summary>vCPU v runs <c>specs[v]</c>, each on a working set of its own.</summary>
    public static GuestWorkload PerVcpu(IReadOnlyList<WorkloadSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        if (specs.Count < 2)
            throw new FormatException("a per-vCPU workload lists at least two vCPUs; a single workload runs on every vCPU");
        if (specs.Count > GuestBuildOptions.MaxVcpus)
            throw new FormatException($"{specs.Count} per-vCPU workloads: a Tern guest has at most {GuestBuildOptions.MaxVcpus} vCPUs");
        var workload = new GuestWorkload([.. specs], perVcpu: true);
        int length = workload.ToString().Length;
        if (length > MaxTextLength)
            throw new FormatException($"the per-vCPU workload is {length} characters long, over the {MaxTextLength} a guest can carry; leave out options at their defaults or use fewer vCPUs");
        return workload;
    }

    public static implicit operator GuestWorkload(WorkloadSpec spec) => Uniform(spec);

    /// <summary>True when each vCPU has its own entry (and working set); false when all share one spec.</summary>
    public bool IsPerVcpu { get; }

    /// <summary>The entries: one shared spec, or one per vCPU.</summary>
    public IReadOnlyList<WorkloadSpec> Specs => specs;

    /// <summary>The workload vCPU <paramref name="vcpu"/> runs.</summary>
    public WorkloadSpec For(int vcpu) => IsPerVcpu ? specs[vcpu] : specs[0];

    /// <summary>The working set of the whole guest: the shared spec's, or the per-vCPU working sets laid end to end.</summary>
    public ulong WorkingSetBytes => IsPerVcpu ? specs.Aggregate(0UL, (sum, s) => checked(sum + s.WorkingSetBytes)) : specs[0].WorkingSetBytes;

    /// <summary>True when some vCPU runs idle, which needs the in-kernel LAPIC timer.</summary>
    public bool HasIdleVcpu => specs.Any(s => s.Kind == WorkloadKind.Idle);

    /// <summary>Throws <see cref="GuestConfigurationException"/> if a per-vCPU list does not have one entry per vCPU.</summary>
    public void CheckVcpuCount(int vcpuCount)
    {
        if (IsPerVcpu && specs.Length != vcpuCount)
            throw new GuestConfigurationException(
                $"workload \"{this}\" gives {specs.Length} vCPUs their own workloads but the guest has {vcpuCount} vCPUs; " +
                $"list one workload per vCPU (separated by '{VcpuSeparator}'), or give a single workload that all vCPUs share");
    }

    /// <summary>Parses a workload string; throws <see cref="FormatException"/> naming the bad entry and what is wrong with it.</summary>
    public static GuestWorkload Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains(VcpuSeparator)) return Uniform(WorkloadSpec.Parse(text));
        string[] entries = text.Split(VcpuSeparator);
        var parsed = new WorkloadSpec[entries.Length];
        for (int v = 0; v < entries.Length; v++)
        {
            if (entries[v].Trim().Length == 0)
                throw new FormatException($"workload \"{text.Trim()}\": the entry for vCPU {v} is empty; give one workload per vCPU separated by '{VcpuSeparator}' (example: seq:ws=256M;compute)");
            try
            {
                parsed[v] = WorkloadSpec.Parse(entries[v]);
            }
            catch (FormatException e)
            {
                throw new FormatException($"workload \"{text.Trim()}\": vCPU {v}: {e.Message}", e);
            }
        }
        return PerVcpu(parsed);
    }

    public static bool TryParse(string? text, out GuestWorkload? workload, out string? error)
    {
        try
        {
            workload = Parse(text ?? "");
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            workload = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>The canonical string: the shared spec, or the per-vCPU specs joined by ';'.</summary>
    public override string ToString() => string.Join(VcpuSeparator, specs.Select(s => s.ToString()));

    public bool Equals(GuestWorkload? other) =>
        other is not null && IsPerVcpu == other.IsPerVcpu && specs.AsSpan().SequenceEqual(other.specs);

    public override bool Equals(object? obj) => Equals(obj as GuestWorkload);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
