using System.Text.Json.Nodes;
using Tern.Control.Qmp;
using Tern.Migration.Api;

namespace Tern.Control.Qapi;

/// <summary>
/// <see cref="MigrationParameters"/> under QEMU's QAPI member names: what <c>query-migrate-parameters</c> returns and
/// what <c>migrate-set-parameters</c> accepts. One table drives both, so a parameter cannot be settable under one name
/// and reported under another.
/// </summary>
public static class MigrationParametersJson
{
    private sealed record Field(
        string Name,
        Func<MigrationParameters, JsonNode> Get,
        Func<MigrationParameters, QmpArguments, MigrationParameters> ReadInto);

    private const ulong UInt8Max = byte.MaxValue;
    private const ulong Int64Max = long.MaxValue;

    // Order as in QEMU's schema, then Tern's extras.
    private static readonly Field[] Fields =
    [
        new("compress-level", p => p.CompressLevel,
            (p, a) => a.OptionalUnsigned("compress-level", UInt8Max, "uint8_t") is { } v ? p with { CompressLevel = (int)v } : p),
        new("compress-threads", p => p.CompressThreads,
            (p, a) => a.OptionalUnsigned("compress-threads", UInt8Max, "uint8_t") is { } v ? p with { CompressThreads = (int)v } : p),
        new("decompress-threads", p => p.DecompressThreads,
            (p, a) => a.OptionalUnsigned("decompress-threads", UInt8Max, "uint8_t") is { } v ? p with { DecompressThreads = (int)v } : p),
        new("max-bandwidth", p => p.MaxBandwidth,
            (p, a) => a.OptionalUnsigned("max-bandwidth", ulong.MaxValue, "uint64") is { } v ? p with { MaxBandwidth = v } : p),
        new("downtime-limit", p => p.DowntimeLimitMs,
            (p, a) => a.OptionalUnsigned("downtime-limit", Int64Max, "int64_t") is { } v ? p with { DowntimeLimitMs = (long)v } : p),
        new("multifd-channels", p => p.MultifdChannels,
            (p, a) => a.OptionalUnsigned("multifd-channels", UInt8Max, "uint8_t") is { } v ? p with { MultifdChannels = (int)v } : p),
        new("xbzrle-cache-size", p => p.XbzrleCacheSize,
            (p, a) => a.OptionalUnsigned("xbzrle-cache-size", ulong.MaxValue, "uint64") is { } v ? p with { XbzrleCacheSize = v } : p),
        new("max-postcopy-bandwidth", p => p.MaxPostcopyBandwidth,
            (p, a) => a.OptionalUnsigned("max-postcopy-bandwidth", ulong.MaxValue, "uint64") is { } v ? p with { MaxPostcopyBandwidth = v } : p),
        new("throttle-trigger-threshold", p => p.ThrottleTriggerThreshold,
            (p, a) => a.OptionalUnsigned("throttle-trigger-threshold", UInt8Max, "uint8_t") is { } v ? p with { ThrottleTriggerThreshold = (int)v } : p),
        new("cpu-throttle-initial", p => p.CpuThrottleInitial,
            (p, a) => a.OptionalUnsigned("cpu-throttle-initial", UInt8Max, "uint8_t") is { } v ? p with { CpuThrottleInitial = (int)v } : p),
        new("cpu-throttle-increment", p => p.CpuThrottleIncrement,
            (p, a) => a.OptionalUnsigned("cpu-throttle-increment", UInt8Max, "uint8_t") is { } v ? p with { CpuThrottleIncrement = (int)v } : p),
        new("cpu-throttle-tailslow", p => p.CpuThrottleTailslow,
            (p, a) => a.OptionalBool("cpu-throttle-tailslow") is { } v ? p with { CpuThrottleTailslow = v } : p),
        new("max-cpu-throttle", p => p.MaxCpuThrottle,
            (p, a) => a.OptionalUnsigned("max-cpu-throttle", UInt8Max, "uint8_t") is { } v ? p with { MaxCpuThrottle = (int)v } : p),
        new("vcpu-dirty-limit", p => p.VcpuDirtyLimit,
            (p, a) => a.OptionalUnsigned("vcpu-dirty-limit", ulong.MaxValue, "uint64") is { } v ? p with { VcpuDirtyLimit = v } : p),
        new("x-compress-method", p => p.CompressMethod,
            (p, a) => a.OptionalString("x-compress-method") is { } v ? p with { CompressMethod = v } : p),
        new("x-memory-budget", p => p.MemoryBudget,
            (p, a) => a.OptionalUnsigned("x-memory-budget", ulong.MaxValue, "uint64") is { } v ? p with { MemoryBudget = v } : p),
        new("x-throttle-method", p => p.ThrottleMethod,
            (p, a) => a.OptionalString("x-throttle-method") is { } v ? p with { ThrottleMethod = v } : p),
        new("x-xbzrle-threads", p => p.XbzrleThreads,
            (p, a) => a.OptionalUnsigned("x-xbzrle-threads", UInt8Max, "uint8_t") is { } v ? p with { XbzrleThreads = (int)v } : p),
        new("x-timeout", p => p.TimeoutMs,
            (p, a) => a.OptionalUnsigned("x-timeout", Int64Max, "int64_t") is { } v ? p with { TimeoutMs = (long)v } : p),
    ];

    /// <summary>The QAPI names of every parameter, in the order <see cref="ToJson"/> writes them.</summary>
    public static IEnumerable<string> Names => Fields.Select(f => f.Name);

    public static JsonObject ToJson(MigrationParameters parameters)
    {
        var o = new JsonObject();
        foreach (var f in Fields)
        {
            o[f.Name] = f.Get(parameters);
        }
        return o;
    }

    /// <summary>
    /// Applies a <c>migrate-set-parameters</c> argument object onto <paramref name="current"/>: members absent stay as they
    /// are. Type errors and unknown members fail with QEMU's texts; ranges are left to <see cref="MigrationParameters.Validate"/>.
    /// </summary>
    internal static MigrationParameters ApplyUpdate(MigrationParameters current, QmpArguments update)
    {
        var result = current;
        foreach (var f in Fields)
        {
            result = f.ReadInto(result, update);
        }
        update.EnsureNoneLeft();
        return result;
    }
}
