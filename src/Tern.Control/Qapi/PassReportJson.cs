using System.Text.Json.Nodes;
using Tern.Migration.Api;

namespace Tern.Control.Qapi;

/// <summary>A <see cref="PassReport"/> as <c>x-query-migrate-history</c> returns it: kebab-case members, null members omitted.</summary>
public static class PassReportJson
{
    public static JsonObject ToJson(PassReport r)
    {
        var o = new JsonObject
        {
            ["pass"] = r.Pass,
            ["final"] = r.Final,
            ["start-ms"] = r.StartMs,
            ["send-ms"] = Math.Round(r.SendMs, 3),
            ["normal"] = r.NormalPages,
            ["duplicate"] = r.ZeroPages,
            ["xbzrle-pages"] = r.XbzrlePages,
            ["compressed-pages"] = r.CompressedPages,
            ["wire-bytes"] = r.WireBytes,
            ["bytes-per-second"] = Math.Round(r.BytesPerSecond),
            ["wire-bytes-per-page"] = Math.Round(r.WireBytesPerPage, 1),
            ["estimated-bytes-per-second"] = Math.Round(r.EstimatedBytesPerSecond),
            ["xbzrle-cache-size"] = r.XbzrleCacheBytes,
            ["decision"] = r.Decision,
        };
        if (r.SyncMs is { } sync) o["sync-ms"] = Math.Round(sync, 3);
        if (r.SyncPeriodMs is { } period) o["sync-period-ms"] = Math.Round(period, 3);
        if (r.DirtyPages is { } dirty) o["dirty-pages"] = dirty;
        if (r.DirtyPagesPerSecond is { } rate) o["dirty-pages-rate"] = Math.Round(rate);
        if (r.DirtyPagesPerVcpu is { } perVcpu) o["dirty-pages-per-vcpu"] = Array(perVcpu.Select(v => (JsonNode)v));
        if (r.RemainingPages is { } remaining) o["remaining-pages"] = remaining;
        if (r.ExpectedDowntimeMs is { } downtime) o["expected-downtime"] = downtime;
        if (r.Converging is { } converging) o["converging"] = converging;
        if (r.ThrottlePercent is { } throttle) o["throttle-percentage"] = Array(throttle.Select(v => (JsonNode)v));
        if (r.CompressMethod is { } method) o["compress-method"] = method;
        if (r.XbzrleThreads > 0) o["xbzrle-threads"] = r.XbzrleThreads;
        if (r.EncodeBytesPerThreadSecond is { } encode) o["encode-bytes-per-thread-second"] = Math.Round(encode);
        if (r.LinkBytesPerSecond is { } link) o["link-bytes-per-second"] = Math.Round(link);
        if (r.DeferredPages is { } deferred) o["deferred-pages"] = deferred;
        if (r.DecisionReason is { } reason) o["decision-reason"] = reason;
        return o;
    }

    /// <summary>Reads a report back (a recorded history, or another Tern's); absent optional members read as null.</summary>
    public static PassReport FromJson(System.Text.Json.JsonElement j)
    {
        double? D(string name) => j.TryGetProperty(name, out var v) ? v.GetDouble() : null;
        long? L(string name) => j.TryGetProperty(name, out var v) ? v.GetInt64() : null;
        return new PassReport
        {
            Pass = j.GetProperty("pass").GetInt64(),
            Final = j.GetProperty("final").GetBoolean(),
            StartMs = L("start-ms") ?? 0,
            SendMs = D("send-ms") ?? 0,
            SyncMs = D("sync-ms"),
            SyncPeriodMs = D("sync-period-ms"),
            NormalPages = L("normal") ?? 0,
            ZeroPages = L("duplicate") ?? 0,
            XbzrlePages = L("xbzrle-pages") ?? 0,
            CompressedPages = L("compressed-pages") ?? 0,
            WireBytes = L("wire-bytes") ?? 0,
            BytesPerSecond = D("bytes-per-second") ?? 0,
            DirtyPages = L("dirty-pages"),
            DirtyPagesPerSecond = D("dirty-pages-rate"),
            DirtyPagesPerVcpu = j.TryGetProperty("dirty-pages-per-vcpu", out var pv) ? pv.EnumerateArray().Select(e => e.GetInt64()).ToArray() : null,
            RemainingPages = L("remaining-pages"),
            WireBytesPerPage = D("wire-bytes-per-page") ?? 0,
            EstimatedBytesPerSecond = D("estimated-bytes-per-second") ?? 0,
            ExpectedDowntimeMs = L("expected-downtime"),
            Converging = j.TryGetProperty("converging", out var c) ? c.GetBoolean() : null,
            ThrottlePercent = j.TryGetProperty("throttle-percentage", out var t) ? t.EnumerateArray().Select(e => e.GetInt32()).ToArray() : null,
            XbzrleCacheBytes = (ulong)(L("xbzrle-cache-size") ?? 0),
            CompressMethod = j.TryGetProperty("compress-method", out var m) ? m.GetString() : null,
            XbzrleThreads = (int)(L("xbzrle-threads") ?? 0),
            EncodeBytesPerThreadSecond = D("encode-bytes-per-thread-second"),
            LinkBytesPerSecond = D("link-bytes-per-second"),
            DeferredPages = L("deferred-pages"),
            Decision = j.TryGetProperty("decision", out var d) ? d.GetString()! : "continue",
            DecisionReason = j.TryGetProperty("decision-reason", out var why) ? why.GetString() : null,
        };
    }

    private static JsonArray Array(IEnumerable<JsonNode> items) => new([.. items]);
}
