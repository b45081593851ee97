using System.Text.Json.Nodes;
using Tern.Control.Qapi;
using Tern.Migration.Api;

namespace Tern.Control.Qmp;

/// <summary>Typed wrappers over <see cref="QmpClient.ExecuteAsync"/> for the migration commands.</summary>
public static class QmpClientMigrationCommands
{
    public static async Task<MigrationInfo> QueryMigrateAsync(this QmpClient client, CancellationToken cancel = default) =>
        MigrationInfoJson.FromJson(await client.ExecuteAsync("query-migrate", cancel: cancel));

    public static Task MigrateAsync(this QmpClient client, string uri, CancellationToken cancel = default) =>
        client.ExecuteAsync("migrate", new JsonObject { ["uri"] = uri }, cancel);

    public static Task MigrateCancelAsync(this QmpClient client, CancellationToken cancel = default) =>
        client.ExecuteAsync("migrate_cancel", cancel: cancel);

    public static Task SetCapabilitiesAsync(
        this QmpClient client, IEnumerable<KeyValuePair<MigrationCapability, bool>> changes, CancellationToken cancel = default)
    {
        var list = new JsonArray();
        foreach (var (capability, state) in changes)
        {
            list.Add(new JsonObject { ["capability"] = capability.ToQapi(), ["state"] = state });
        }
        return client.ExecuteAsync("migrate-set-capabilities", new JsonObject { ["capabilities"] = list }, cancel);
    }

    /// <summary><paramref name="update"/> holds the parameters to change under their QAPI names, e.g. <c>downtime-limit</c>.</summary>
    public static Task SetParametersAsync(this QmpClient client, JsonObject update, CancellationToken cancel = default) =>
        client.ExecuteAsync("migrate-set-parameters", update, cancel);
}
