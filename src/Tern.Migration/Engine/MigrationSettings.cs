using System.Collections.Frozen;
using Tern.Migration.Api;

namespace Tern.Migration.Engine;

/// <summary>
/// The capabilities and parameters an operator has set (QMP migrate-set-capabilities / migrate-set-parameters).
/// Thread-safe: each change swaps in a new immutable value, and a running migration picks changes up at its next
/// pass (max-bandwidth at once).
/// </summary>
public sealed class MigrationSettings
{
    private volatile MigrationParameters parameters = new();
    private volatile FrozenSet<MigrationCapability> enabled = FrozenSet<MigrationCapability>.Empty;

    public MigrationParameters Parameters => parameters;

    /// <summary>
    /// The operator's per-vCPU dirty limits (<c>set-vcpu-dirty-limit</c>): not a migration setting in QEMU's schema,
    /// but kept here because a migration keeps applying them while it owns the dirty tracker.
    /// </summary>
    public Throttle.VcpuDirtyLimits DirtyLimits { get; } = new();

    public event Action? Changed;

    public bool IsEnabled(MigrationCapability capability) => enabled.Contains(capability);

    public IReadOnlyDictionary<MigrationCapability, bool> Capabilities =>
        Enum.GetValues<MigrationCapability>().ToDictionary(c => c, c => enabled.Contains(c));

    public void SetParameters(MigrationParameters value)
    {
        if (value.Validate() is { } problem) throw new ArgumentException(problem);
        if (Compression.PageCodecOptions.LevelRange(value.CompressMethod) is { } range && (value.CompressLevel < range.Min || value.CompressLevel > range.Max))
            throw new ArgumentException($"compress-level {value.CompressLevel} is out of range for {value.CompressMethod} ({range.Min}-{range.Max})");
        parameters = value;
        Changed?.Invoke();
    }

    public void SetCapability(MigrationCapability capability, bool on)
    {
        var set = enabled.ToHashSet();
        if (on) set.Add(capability); else set.Remove(capability);
        enabled = set.ToFrozenSet();
        Changed?.Invoke();
    }
}
