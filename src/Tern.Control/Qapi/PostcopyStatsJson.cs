using System.Text.Json;
using System.Text.Json.Nodes;
using Tern.Migration.Api;

namespace Tern.Control.Qapi;

/// <summary><c>x-postcopy</c> in query-migrate: the destination's post-copy figures (<see cref="PostcopyStats"/>).</summary>
internal static class PostcopyStatsJson
{
    public static void Add(JsonObject o, PostcopyStats? stats)
    {
        if (stats is null) return;
        var histogram = new JsonArray();
        for (int i = 0; i < stats.FaultLatencyCounts.Length; i++)
            histogram.Add(new JsonObject
            {
                ["le-us"] = i < stats.FaultLatencyBucketsUs.Count ? stats.FaultLatencyBucketsUs[i] : null,
                ["count"] = stats.FaultLatencyCounts[i],
            });
        o["x-postcopy"] = new JsonObject
        {
            ["stale-pages"] = stats.StalePages,
            ["dropped-ahead-pages"] = stats.DroppedAheadPages,
            ["stale-page-handling"] = stats.StalePageHandling,
            ["missing-pages"] = stats.MissingPages,
            ["faults"] = stats.Faults,
            ["pages-requested"] = stats.PagesRequested,
            ["request-messages"] = stats.RequestMessages,
            ["pages-received"] = stats.PagesReceived,
            ["bytes-received"] = stats.BytesReceived,
            ["vcpu-blocked-ms"] = stats.VcpuBlockedMs,
            ["fault-latency-p50-us"] = stats.FaultLatencyP50Us,
            ["fault-latency-p99-us"] = stats.FaultLatencyP99Us,
            ["fault-latency"] = histogram,
            ["last-page-ms"] = stats.LastPageMs,
            ["recoveries"] = stats.Recoveries,
            ["requests-repeated"] = stats.RequestsRepeated,
        };
    }

    public static PostcopyStats? Read(JsonElement json)
    {
        if (!json.TryGetProperty("x-postcopy", out var j) || j.ValueKind != JsonValueKind.Object) return null;
        long Int(string name) => j.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;
        long? Optional(string name) => j.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : null;
        var buckets = j.TryGetProperty("fault-latency", out var h) && h.ValueKind == JsonValueKind.Array ? h.EnumerateArray().ToList() : [];
        return new PostcopyStats
        {
            StalePages = Int("stale-pages"),
            DroppedAheadPages = Int("dropped-ahead-pages"),
            StalePageHandling = j.TryGetProperty("stale-page-handling", out var h2) && h2.ValueKind == JsonValueKind.String ? h2.GetString()! : "drop",
            MissingPages = Int("missing-pages"),
            Faults = Int("faults"),
            PagesRequested = Int("pages-requested"),
            RequestMessages = Int("request-messages"),
            PagesReceived = Int("pages-received"),
            BytesReceived = Int("bytes-received"),
            VcpuBlockedMs = Int("vcpu-blocked-ms"),
            FaultLatencyP50Us = Optional("fault-latency-p50-us"),
            FaultLatencyP99Us = Optional("fault-latency-p99-us"),
            FaultLatencyBucketsUs = buckets.Where(b => b.TryGetProperty("le-us", out var le) && le.ValueKind == JsonValueKind.Number).Select(b => b.GetProperty("le-us").GetInt64()).ToList(),
            FaultLatencyCounts = buckets.Select(b => b.TryGetProperty("count", out var c) && c.TryGetInt64(out var n) ? n : 0).ToArray(),
            LastPageMs = Optional("last-page-ms"),
            Recoveries = (int)Int("recoveries"),
            RequestsRepeated = Int("requests-repeated"),
        };
    }
}
