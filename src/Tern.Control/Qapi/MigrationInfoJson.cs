using System.Text.Json;
using System.Text.Json.Nodes;
using Tern.Migration.Api;

namespace Tern.Control.Qapi;

/// <summary>
/// <see cref="MigrationInfo"/> in QEMU 7.2's QAPI shape (what <c>query-migrate</c> returns): kebab-case member names,
/// null members omitted, <c>status</c> omitted while no migration ever ran (QEMU then returns <c>{}</c>). Members QEMU 7.2
/// always sends but Tern does not measure (<c>skipped</c>, <c>dirty-sync-missed-zero-copy</c>) are sent as 0 so strict
/// clients find them. Tern's extras carry an <c>x-</c> prefix.
/// </summary>
public static class MigrationInfoJson
{
    public static JsonObject ToJson(MigrationInfo info)
    {
        var o = new JsonObject();
        if (info.Status != MigrationStatus.None)
        {
            o["status"] = info.Status.ToQapi();
        }
        if (info.Ram is { } ram)
        {
            o["ram"] = new JsonObject
            {
                ["transferred"] = ram.Transferred,
                ["remaining"] = ram.Remaining,
                ["total"] = ram.Total,
                ["duplicate"] = ram.Duplicate,
                ["skipped"] = 0,
                ["normal"] = ram.Normal,
                ["normal-bytes"] = ram.NormalBytes,
                ["dirty-pages-rate"] = ram.DirtyPagesRate,
                ["mbps"] = Finite(ram.Mbps),
                ["dirty-sync-count"] = ram.DirtySyncCount,
                ["postcopy-requests"] = ram.PostcopyRequests,
                ["page-size"] = ram.PageSize,
                ["multifd-bytes"] = ram.MultifdBytes,
                ["pages-per-second"] = ram.PagesPerSecond,
                ["precopy-bytes"] = ram.PrecopyBytes,
                ["downtime-bytes"] = ram.DowntimeBytes,
                ["postcopy-bytes"] = ram.PostcopyBytes,
                ["dirty-sync-missed-zero-copy"] = 0,
            };
        }
        if (info.XbzrleCache is { } x)
        {
            o["xbzrle-cache"] = new JsonObject
            {
                ["cache-size"] = x.CacheSize,
                ["bytes"] = x.Bytes,
                ["pages"] = x.Pages,
                ["cache-miss"] = x.CacheMiss,
                ["cache-miss-rate"] = Finite(x.CacheMissRate),
                ["encoding-rate"] = Finite(x.EncodingRate),
                ["overflow"] = x.Overflow,
            };
        }
        if (info.Compression is { } c)
        {
            o["compression"] = new JsonObject
            {
                ["pages"] = c.Pages,
                ["busy"] = c.Busy,
                ["busy-rate"] = Finite(c.BusyRate),
                ["compressed-size"] = c.CompressedSize,
                ["compression-rate"] = Finite(c.CompressionRate),
            };
        }
        AddIfPresent(o, "total-time", info.TotalTimeMs);
        AddIfPresent(o, "expected-downtime", info.ExpectedDowntimeMs);
        AddIfPresent(o, "downtime", info.DowntimeMs);
        AddIfPresent(o, "setup-time", info.SetupTimeMs);
        AddIfPresent(o, "cpu-throttle-percentage", info.CpuThrottlePercentage);
        AddIfPresent(o, "dirty-limit-throttle-time-per-round", info.DirtyLimitThrottleTimePerRoundUs);
        AddIfPresent(o, "dirty-limit-ring-full-time", info.DirtyLimitRingFullTimeUs);
        if (info.ErrorDesc is { } error)
        {
            o["error-desc"] = error;
        }
        AddIfPresent(o, "x-guest-downtime", info.GuestDowntimeMs);
        if (info.Verification is { } v)
        {
            o["x-verify"] = new JsonObject
            {
                ["matched"] = v.Matched,
                ["source-digest"] = v.SourceDigest,
                ["destination-digest"] = v.DestinationDigest,
                ["pages-compared"] = v.PagesCompared,
            };
        }
        AddIfPresent(o, "x-channels", info.Channels);
        if (info.ChannelBytes is { } perChannel)
        {
            var array = new JsonArray();
            foreach (var b in perChannel) array.Add(b);
            o["x-channel-bytes"] = array;
        }
        if (info.Converging is { } converging)
        {
            o["x-converging"] = converging;
        }
        if (info.VcpuThrottlePercentages is { } perVcpu)
        {
            var array = new JsonArray();
            foreach (var p in perVcpu) array.Add(p);
            o["x-vcpu-throttle-percentage"] = array;
        }
        if (info.ThrottleReason is { } why)
        {
            o["x-throttle-reason"] = why;
        }
        AddIfPresent(o, "x-throttle-peak", info.ThrottlePeak);
        if (info.Plan is { } plan)
        {
            o["x-plan"] = PlanJson(plan);
        }
        if (info.Switchover is { } steps)
        {
            var times = new JsonObject();
            foreach (var step in steps) times[step.Step.ToQapi()] = Math.Round(step.Ms, 3);
            o["x-switchover"] = times;
        }
        if (info.GuestSlowdown is { } slowdown)
        {
            GuestSlowdownJson.Add(o, slowdown);
        }
        PostcopyStatsJson.Add(o, info.Postcopy);
        return o;
    }

    /// <summary>
    /// Reads a <c>query-migrate</c> result, from Tern or from QEMU: unknown members are ignored, absent counters read as 0.
    /// Throws <see cref="FormatException"/> naming the member when a value has the wrong type or an unknown status.
    /// </summary>
    public static MigrationInfo FromJson(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"query-migrate returned {json.ValueKind}, expected an object");
        }
        var status = MigrationStatus.None;
        if (json.TryGetProperty("status", out var s))
        {
            var name = s.ValueKind == JsonValueKind.String ? s.GetString()! : throw Bad("status", "a string");
            if (!MigrationStatusNames.TryParse(name, out status))
            {
                throw new FormatException($"query-migrate reported migration status '{name}', which Tern does not know");
            }
        }
        return new MigrationInfo
        {
            Status = status,
            Ram = json.TryGetProperty("ram", out var ram) ? ReadRam(ram) : null,
            XbzrleCache = json.TryGetProperty("xbzrle-cache", out var x) ? ReadXbzrle(x) : null,
            Compression = json.TryGetProperty("compression", out var c) ? ReadCompression(c) : null,
            TotalTimeMs = OptionalInt64(json, "total-time"),
            ExpectedDowntimeMs = OptionalInt64(json, "expected-downtime"),
            DowntimeMs = OptionalInt64(json, "downtime"),
            SetupTimeMs = OptionalInt64(json, "setup-time"),
            CpuThrottlePercentage = (int?)OptionalInt64(json, "cpu-throttle-percentage"),
            DirtyLimitThrottleTimePerRoundUs = OptionalInt64(json, "dirty-limit-throttle-time-per-round"),
            DirtyLimitRingFullTimeUs = OptionalInt64(json, "dirty-limit-ring-full-time"),
            ErrorDesc = OptionalString(json, "error-desc"),
            GuestDowntimeMs = OptionalInt64(json, "x-guest-downtime"),
            Verification = json.TryGetProperty("x-verify", out var v) ? ReadVerification(v) : null,
            Channels = (int?)OptionalInt64(json, "x-channels"),
            ChannelBytes = json.TryGetProperty("x-channel-bytes", out var cb) && cb.ValueKind == JsonValueKind.Array
                ? cb.EnumerateArray().Select(e => e.TryGetInt64(out var n) ? n : throw Bad("x-channel-bytes", "an array of integers")).ToList()
                : null,
            VcpuThrottlePercentages = json.TryGetProperty("x-vcpu-throttle-percentage", out var vt) && vt.ValueKind == JsonValueKind.Array
                ? vt.EnumerateArray().Select(e => e.TryGetInt32(out var n) ? n : throw Bad("x-vcpu-throttle-percentage", "an array of integers")).ToList()
                : null,
            ThrottleReason = OptionalString(json, "x-throttle-reason"),
            ThrottlePeak = (int?)OptionalInt64(json, "x-throttle-peak"),
            Converging = OptionalBool(json, "x-converging"),
            Plan = ReadPlan(json),
            Switchover = ReadSwitchover(json),
            GuestSlowdown = GuestSlowdownJson.Read(json),
            Postcopy = PostcopyStatsJson.Read(json),
        };
    }

    /// <summary><c>x-plan</c>: the engine's latest decision, kebab-case like the rest.</summary>
    private static JsonObject PlanJson(PlanInfo plan)
    {
        var o = new JsonObject
        {
            ["pass"] = plan.Pass,
            ["action"] = plan.Action,
            ["reason"] = plan.Reason,
            ["xbzrle"] = plan.Xbzrle,
            ["xbzrle-cache-size"] = plan.XbzrleCacheBytes,
        };
        if (plan.Xbzrle) o["xbzrle-threads"] = plan.XbzrleThreads;
        if (plan.XbzrleThreadsReason is { } threadsWhy) o["xbzrle-threads-reason"] = threadsWhy;
        if (plan.CompressMethod is { } method) o["compress-method"] = method;
        if (plan.ThrottlePercent is { } throttle) o["throttle-percentage"] = new JsonArray([.. throttle.Select(p => (JsonNode)p)]);
        if (plan.ThrottleReason is { } why) o["throttle-reason"] = why;
        return o;
    }

    private static PlanInfo? ReadPlan(JsonElement json)
    {
        if (!json.TryGetProperty("x-plan", out var j)) return null;
        if (j.ValueKind != JsonValueKind.Object) throw Bad("x-plan", "an object");
        return new PlanInfo(Int64(j, "pass"), OptionalString(j, "action") ?? throw Bad("x-plan.action", "a string"), OptionalString(j, "reason") ?? "",
            OptionalBool(j, "xbzrle") ?? false, UInt64(j, "xbzrle-cache-size"), OptionalString(j, "compress-method"),
            j.TryGetProperty("throttle-percentage", out var t) && t.ValueKind == JsonValueKind.Array
                ? t.EnumerateArray().Select(e => e.TryGetInt32(out var n) ? n : throw Bad("x-plan.throttle-percentage", "an array of integers")).ToList()
                : null,
            OptionalString(j, "throttle-reason"))
        {
            XbzrleThreads = (int)(OptionalInt64(j, "xbzrle-threads") ?? 0),
            XbzrleThreadsReason = OptionalString(j, "xbzrle-threads-reason"),
        };
    }

    /// <summary><c>x-switchover</c>: the steps in the order sent; a step Tern does not know is skipped (a newer Tern's).</summary>
    private static IReadOnlyList<SwitchoverStepTime>? ReadSwitchover(JsonElement json)
    {
        if (!json.TryGetProperty("x-switchover", out var j)) return null;
        if (j.ValueKind != JsonValueKind.Object) throw Bad("x-switchover", "an object");
        var steps = new List<SwitchoverStepTime>();
        foreach (var member in j.EnumerateObject())
        {
            if (member.Value.ValueKind != JsonValueKind.Number) throw Bad($"x-switchover.{member.Name}", "a number");
            if (SwitchoverStepNames.TryParse(member.Name, out var step)) steps.Add(new SwitchoverStepTime(step, member.Value.GetDouble()));
        }
        return steps;
    }

    private static RamStats ReadRam(JsonElement j) => new()
    {
        Transferred = Int64(j, "transferred"),
        Remaining = Int64(j, "remaining"),
        Total = Int64(j, "total"),
        Duplicate = Int64(j, "duplicate"),
        Normal = Int64(j, "normal"),
        NormalBytes = Int64(j, "normal-bytes"),
        DirtyPagesRate = Int64(j, "dirty-pages-rate"),
        Mbps = Double(j, "mbps"),
        DirtySyncCount = Int64(j, "dirty-sync-count"),
        PostcopyRequests = Int64(j, "postcopy-requests"),
        PageSize = j.TryGetProperty("page-size", out _) ? Int64(j, "page-size") : 4096,
        MultifdBytes = UInt64(j, "multifd-bytes"),
        PagesPerSecond = UInt64(j, "pages-per-second"),
        PrecopyBytes = UInt64(j, "precopy-bytes"),
        DowntimeBytes = UInt64(j, "downtime-bytes"),
        PostcopyBytes = UInt64(j, "postcopy-bytes"),
    };

    private static XbzrleCacheStats ReadXbzrle(JsonElement j) => new()
    {
        CacheSize = UInt64(j, "cache-size"),
        Bytes = Int64(j, "bytes"),
        Pages = Int64(j, "pages"),
        CacheMiss = Int64(j, "cache-miss"),
        CacheMissRate = Double(j, "cache-miss-rate"),
        EncodingRate = Double(j, "encoding-rate"),
        Overflow = Int64(j, "overflow"),
    };

    private static CompressionStats ReadCompression(JsonElement j) => new()
    {
        Pages = Int64(j, "pages"),
        Busy = Int64(j, "busy"),
        BusyRate = Double(j, "busy-rate"),
        CompressedSize = Int64(j, "compressed-size"),
        CompressionRate = Double(j, "compression-rate"),
    };

    private static VerificationResult ReadVerification(JsonElement j) =>
        new(j.TryGetProperty("matched", out var m) && m.ValueKind == JsonValueKind.True,
            UInt64(j, "source-digest"), UInt64(j, "destination-digest"), Int64(j, "pages-compared"));

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

    private static void AddIfPresent(JsonObject o, string name, long? value)
    {
        if (value is { } v)
        {
            o[name] = v;
        }
    }

    private static string? OptionalString(JsonElement j, string name) =>
        !j.TryGetProperty(name, out var v) ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : throw Bad(name, "a string");

    private static bool? OptionalBool(JsonElement j, string name) =>
        !j.TryGetProperty(name, out var v) ? null
        : v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(name, "a boolean"),
        };

    private static long? OptionalInt64(JsonElement j, string name) =>
        j.TryGetProperty(name, out _) ? Int64(j, name) : null;

    private static long Int64(JsonElement j, string name) =>
        !j.TryGetProperty(name, out var v) ? 0
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n
        : throw Bad(name, "an integer");

    private static ulong UInt64(JsonElement j, string name) =>
        !j.TryGetProperty(name, out var v) ? 0
        : v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out var n) ? n
        : throw Bad(name, "an unsigned integer");

    private static double Double(JsonElement j, string name) =>
        !j.TryGetProperty(name, out var v) ? 0
        : v.ValueKind == JsonValueKind.Number ? v.GetDouble()
        : throw Bad(name, "a number");

    private static FormatException Bad(string member, string expected) =>
        new($"query-migrate member '{member}' is not {expected}");
}
