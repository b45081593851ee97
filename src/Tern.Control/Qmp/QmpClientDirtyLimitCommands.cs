using System.Text.Json.Nodes;
using Tern.Control.Qapi;
using Tern.Migration.Throttle;

namespace Tern.Control.Qmp;

/// <summary>Typed wrappers over <see cref="QmpClient.ExecuteAsync"/> for the per-vCPU dirty limit commands.</summary>
public static class QmpClientDirtyLimitCommands
{
    public static Task SetVcpuDirtyLimitAsync(this QmpClient client, int? cpuIndex, ulong megabytesPerSecond, CancellationToken cancel = default)
    {
        var arguments = new JsonObject { ["dirty-rate"] = megabytesPerSecond };
        if (cpuIndex is { } v) arguments["cpu-index"] = v;
        return client.ExecuteAsync("set-vcpu-dirty-limit", arguments, cancel);
    }

    public static Task CancelVcpuDirtyLimitAsync(this QmpClient client, int? cpuIndex, CancellationToken cancel = default) =>
        client.ExecuteAsync("cancel-vcpu-dirty-limit", cpuIndex is { } v ? new JsonObject { ["cpu-index"] = v } : null, cancel);

    public static async Task<IReadOnlyList<VcpuDirtyLimit>> QueryVcpuDirtyLimitAsync(this QmpClient client, CancellationToken cancel = default) =>
        DirtyLimitInfoJson.FromJson(await client.ExecuteAsync("query-vcpu-dirty-limit", cancel: cancel));
}
