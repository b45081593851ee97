using System.Text.Json;
using System.Text.Json.Nodes;
using Tern.Migration.Throttle;

namespace Tern.Control.Qapi;

/// <summary>QAPI <c>DirtyLimitInfo</c> (QEMU 7.1+) in JSON, both ways: <c>{cpu-index, limit-rate, current-rate}</c>, rates in MB/s.</summary>
public static class DirtyLimitInfoJson
{
    public static JsonArray ToJson(IReadOnlyList<VcpuDirtyLimit> limits)
    {
        var list = new JsonArray();
        foreach (var l in limits)
            list.Add(new JsonObject { ["cpu-index"] = l.CpuIndex, ["limit-rate"] = l.LimitRate, ["current-rate"] = l.CurrentRate });
        return list;
    }

    public static IReadOnlyList<VcpuDirtyLimit> FromJson(JsonElement list) =>
        list.EnumerateArray().Select(e => new VcpuDirtyLimit(
            e.GetProperty("cpu-index").GetInt32(), e.GetProperty("limit-rate").GetUInt64(), e.GetProperty("current-rate").GetUInt64())).ToArray();
}
