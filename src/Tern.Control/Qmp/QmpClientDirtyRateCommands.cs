using System.Text.Json.Nodes;
using Tern.Control.DirtyRate;
using Tern.Control.Qapi;

namespace Tern.Control.Qmp;

/// <summary>Typed wrappers over <see cref="QmpClient.ExecuteAsync"/> for <c>calc-dirty-rate</c> and <c>query-dirty-rate</c>.</summary>
public static class QmpClientDirtyRateCommands
{
    public static Task CalcDirtyRateAsync(this QmpClient client, DirtyRateRequest request, CancellationToken cancel = default)
    {
        var arguments = new JsonObject { ["calc-time"] = request.CalcTimeSeconds };
        if (request.SamplePagesPerGib is { } pages) arguments["sample-pages"] = pages;
        arguments["mode"] = request.Mode.ToQapi();
        return client.ExecuteAsync("calc-dirty-rate", arguments, cancel);
    }

    public static async Task<DirtyRateInfo> QueryDirtyRateAsync(this QmpClient client, CancellationToken cancel = default) =>
        DirtyRateInfoJson.FromJson(await client.ExecuteAsync("query-dirty-rate", cancel: cancel));

    /// <summary>
    /// Starts a measurement and polls until it is measured (at most the window plus <paramref name="slack"/>); throws
    /// <see cref="TimeoutException"/> if it never is.
    /// </summary>
    public static async Task<DirtyRateInfo> MeasureDirtyRateAsync(this QmpClient client, DirtyRateRequest request, TimeSpan slack, CancellationToken cancel = default)
    {
        await client.CalcDirtyRateAsync(request, cancel);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(request.CalcTimeSeconds) + slack;
        await Task.Delay(TimeSpan.FromSeconds(request.CalcTimeSeconds), cancel);
        while (true)
        {
            var info = await client.QueryDirtyRateAsync(cancel);
            if (info.Status == DirtyRateStatus.Measured) return info;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the dirty rate was not measured {slack.TotalSeconds:0} s after its {request.CalcTimeSeconds} s window (status {info.Status.ToQapi()})");
            await Task.Delay(100, cancel);
        }
    }
}
