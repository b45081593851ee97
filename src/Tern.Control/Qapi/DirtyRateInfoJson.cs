using System.Text.Json;
using System.Text.Json.Nodes;
using Tern.Control.DirtyRate;

namespace Tern.Control.Qapi;

/// <summary>
/// QAPI <c>DirtyRateInfo</c> (QEMU 7.2) in JSON, both ways: <c>dirty-rate</c> (MB/s, present once measured), <c>status</c>,
/// <c>start-time</c>, <c>calc-time</c>, <c>sample-pages</c>, <c>mode</c>, <c>vcpu-dirty-rate</c> (dirty-ring mode: a list
/// of <c>{id, dirty-rate}</c>), and Tern's <c>x-</c> members on how the figure was obtained.
/// </summary>
public static class DirtyRateInfoJson
{
    public static JsonObject ToJson(DirtyRateInfo info)
    {
        var json = new JsonObject();
        if (info.DirtyRateMib is { } rate) json["dirty-rate"] = rate;
        json["status"] = info.Status.ToQapi();
        json["start-time"] = info.StartTimeSeconds;
        json["calc-time"] = info.CalcTimeSeconds;
        json["sample-pages"] = info.SamplePages;
        json["mode"] = info.Mode.ToQapi();
        if (info.VcpuDirtyRatesMib is { } perVcpu)
        {
            var list = new JsonArray();
            for (int i = 0; i < perVcpu.Count; i++) list.Add(new JsonObject { ["id"] = i, ["dirty-rate"] = perVcpu[i] });
            json["vcpu-dirty-rate"] = list;
        }
        if (info.SampledPages is { } sampled) json["x-sampled-pages"] = sampled;
        if (info.ChangedPages is { } changed) json["x-changed-pages"] = changed;
        if (info.DirtyPages is { } dirty) json["x-dirty-pages"] = dirty;
        if (info.WindowMs is { } window) json["x-window-ms"] = window;
        if (info.StandardErrorMib is { } error) json["x-standard-error"] = Math.Round(error, 3);
        return json;
    }

    /// <summary>Reads a <c>query-dirty-rate</c> reply (Tern's or QEMU's); throws <see cref="FormatException"/> naming a bad member.</summary>
    public static DirtyRateInfo FromJson(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object) throw new FormatException("query-dirty-rate did not return an object");
        string statusText = String(json, "status");
        if (!DirtyRateStatusNames.TryParse(statusText, out var status)) throw new FormatException($"query-dirty-rate: unknown status '{statusText}'");
        var mode = DirtyRateMode.PageSampling;
        if (json.TryGetProperty("mode", out var m) && !DirtyRateModeNames.TryParse(m.GetString() ?? "", out mode))
            throw new FormatException($"query-dirty-rate: unknown mode '{m}'");
        List<long>? perVcpu = null;
        if (json.TryGetProperty("vcpu-dirty-rate", out var list) && list.ValueKind == JsonValueKind.Array)
            perVcpu = list.EnumerateArray().Select(v => Long(v, "dirty-rate") ?? 0).ToList();
        return new DirtyRateInfo(status, mode,
            Long(json, "start-time") ?? 0, Long(json, "calc-time") ?? 0, Long(json, "sample-pages") ?? 0, Long(json, "dirty-rate"), perVcpu,
            Long(json, "x-sampled-pages"), Long(json, "x-changed-pages"), Long(json, "x-dirty-pages"), Long(json, "x-window-ms"),
            json.TryGetProperty("x-standard-error", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null);
    }

    private static string String(JsonElement json, string name) =>
        json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FormatException($"query-dirty-rate: '{name}' is missing or not a string");

    private static long? Long(JsonElement json, string name)
    {
        if (!json.TryGetProperty(name, out var v)) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long value) ? value : throw new FormatException($"query-dirty-rate: '{name}' is not an integer");
    }
}
