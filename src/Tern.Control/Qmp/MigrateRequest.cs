using System.Text.Json.Nodes;
using Tern.Migration.Api;

namespace Tern.Control.Qmp;

/// <summary>
/// What <c>tern migrate</c> asks of a VM: where to, which capabilities to switch on and which parameters to change.
/// Whatever is left unset keeps the VM's current setting.
/// </summary>
public sealed record MigrateRequest(string Uri)
{
    /// <summary><c>x-verify</c>: compare RAM digests on both sides before the destination resumes.</summary>
    public bool Verify { get; init; }
    public bool Xbzrle { get; init; }
    public bool Compress { get; init; }
    /// <summary>Turns on <c>multifd</c> with this many page-data connections.</summary>
    public int? Channels { get; init; }
    public long? DowntimeLimitMs { get; init; }
    /// <summary>Bytes per second; 0 means unlimited.</summary>
    public ulong? MaxBandwidth { get; init; }
    public long? TimeoutMs { get; init; }
    /// <summary>x-memory-budget: host bytes caches may use (the XBZRLE cache stays below it).</summary>
    public ulong? MemoryBudget { get; init; }
    /// <summary>xbzrle-cache-size: a fixed cache size instead of sizing it from the working set.</summary>
    public ulong? XbzrleCacheSize { get; init; }
    /// <summary>x-compress-method: zstd, lz4 or zlib.</summary>
    public string? CompressMethod { get; init; }
    /// <summary>Turns on <c>auto-converge</c>.</summary>
    public bool AutoConverge { get; init; }
    /// <summary>x-throttle-method: computed or step.</summary>
    public string? ThrottleMethod { get; init; }
    /// <summary>Turns on <c>dirty-limit</c> with this vcpu-dirty-limit, in MB/s.</summary>
    public ulong? DirtyLimit { get; init; }

    /// <summary>
    /// The capabilities to switch on. <c>events</c> is always among them: the progress display follows MIGRATION_PASS.
    /// </summary>
    public IReadOnlyDictionary<MigrationCapability, bool> CapabilityChanges()
    {
        var changes = new Dictionary<MigrationCapability, bool> { [MigrationCapability.Events] = true };
        if (Verify)
        {
            changes[MigrationCapability.Verify] = true;
        }
        if (Xbzrle)
        {
            changes[MigrationCapability.Xbzrle] = true;
        }
        if (Compress)
        {
            changes[MigrationCapability.Compress] = true;
        }
        if (Channels is not null)
        {
            changes[MigrationCapability.Multifd] = true;
        }
        if (AutoConverge)
        {
            changes[MigrationCapability.AutoConverge] = true;
        }
        if (DirtyLimit is not null)
        {
            changes[MigrationCapability.DirtyLimit] = true;
        }
        return changes;
    }

    /// <summary>The <c>migrate-set-parameters</c> arguments, or null when no parameter changes.</summary>
    public JsonObject? ParameterUpdate()
    {
        var update = new JsonObject();
        if (Channels is { } channels)
        {
            update["multifd-channels"] = channels;
        }
        if (DowntimeLimitMs is { } downtime)
        {
            update["downtime-limit"] = downtime;
        }
        if (MaxBandwidth is { } bandwidth)
        {
            update["max-bandwidth"] = bandwidth;
        }
        if (TimeoutMs is { } timeout)
        {
            update["x-timeout"] = timeout;
        }
        if (MemoryBudget is { } budget)
        {
            update["x-memory-budget"] = budget;
        }
        if (XbzrleCacheSize is { } cache)
        {
            update["xbzrle-cache-size"] = cache;
        }
        if (CompressMethod is { } method)
        {
            update["x-compress-method"] = method;
        }
        if (ThrottleMethod is { } throttle)
        {
            update["x-throttle-method"] = throttle;
        }
        if (DirtyLimit is { } limit)
        {
            update["vcpu-dirty-limit"] = limit;
        }
        return update.Count == 0 ? null : update;
    }
}
