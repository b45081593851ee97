using System.Text.Json.Nodes;
using Tern.Control.Qmp;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>Drives a post-copy migration between two `tern run` processes over QMP, as an operator would.</summary>
internal static class PostcopyProcesses
{
    /// <summary>
    /// A guest that writes its working set in order at 10 MB/s: the pages it dirtied during the first pass lie behind
    /// its cursor, so after the switch it faults on few of them and most stay missing until the (slow) background stream
    /// brings them: the link can be broken with pages still on the source.
    /// </summary>
    public const string Workload = "seq:ws=32M,rate=10";

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Starts a migration to <paramref name="uri"/>, switches it to post-copy and waits until it is post-copy-active on the source.</summary>
    public static async Task StartInPostcopyAsync(QmpClient src, string uri, bool verify = false)
    {
        var capabilities = new JsonArray(new JsonObject { ["capability"] = "postcopy-ram", ["state"] = true });
        if (verify) capabilities.Add(new JsonObject { ["capability"] = "x-verify", ["state"] = true });
        await src.ExecuteAsync("migrate-set-capabilities", new JsonObject { ["capabilities"] = capabilities }, Ct);
        // After the switch, a slow background stream: the guest's missing pages stay missing for a while (requested
        // pages are not paced). Set before the switch, so that no unpaced moment can send them all.
        await src.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 4 << 20, ["max-postcopy-bandwidth"] = 1 << 20 }, Ct);
        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = uri }, Ct);
        await src.ExecuteAsync("migrate-start-postcopy", cancel: Ct);
        await WaitForStatusAsync(src, "postcopy-active");
    }

    public static async Task<string> StatusAsync(QmpClient client)
    {
        var info = await client.ExecuteAsync("query-migrate", cancel: Ct);
        return info.TryGetProperty("status", out var s) ? s.GetString()! : "none";
    }

    public static async Task WaitForStatusAsync(QmpClient client, string wanted, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Patience);
        string now;
        while ((now = await StatusAsync(client)) != wanted)
        {
            Assert.True(DateTime.UtcNow < deadline, $"migration status {now}, not {wanted}: {await client.ExecuteAsync("query-migrate", cancel: Ct)}");
            await Task.Delay(50, Ct);
        }
    }
}
