using System.Text.Json;
using Tern.Control.Host;
using Tern.Control.Qmp;
using Tern.Control.Tests.Support;
using Tern.Guest;
using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Control.Tests.Postcopy;

/// <summary>
/// QMP <c>migrate-start-postcopy</c> on a real VM host (simulated guests, real QMP socket, real migration over
/// loopback): refused with a reason when there is no migration, when postcopy-ram is off and when post-copy was
/// already started; accepted otherwise, after which the migration completes in post-copy.
/// </summary>
public sealed class StartPostcopyCommandTests
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static VmHost RunningSource()
    {
        var host = new VmHost(MachineBuilder.Boot(WorkloadSpec.Parse("seq:ws=16M"), 64 << 20, 2, Sim), Sim);
        host.Start();
        return host;
    }

    private static async Task<RawQmpConnection> Qmp(QmpServer server, string path)
    {
        server.Start();
        var c = await RawQmpConnection.ConnectAsync(path);
        await c.ReadMessageAsync();
        var reply = await c.CommandAsync("""{"execute": "qmp_capabilities"}""");
        Assert.True(reply.TryGetProperty("return", out _), reply.ToString());
        return c;
    }

    private static string MigrateCommand(VmHost destination) =>
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"" + destination.IncomingAddress + "\"}}";

    private static string ErrorOf(JsonElement reply)
    {
        Assert.True(reply.TryGetProperty("error", out var error), $"expected an error, got {reply}");
        return error.GetProperty("desc").GetString()!;
    }

    [Fact]
    public async Task Migrate_start_postcopy_is_refused_without_a_migration_without_postcopy_ram_and_twice()
    {
        using var source = RunningSource();
        using var destination = new VmHost(Sim);
        destination.StartIncoming("tcp:127.0.0.1:0");
        var path = TestSocketPath.Create();
        await using var server = new QmpServer(path, source, new QmpServerOptions());
        await using var qmp = await Qmp(server, path);

        Assert.Contains("no outgoing migration", ErrorOf(await qmp.CommandAsync("""{"execute": "migrate-start-postcopy"}""")));

        // postcopy-ram off: refused, and the migration goes on in pre-copy (cancelled here).
        var limit = """{"execute": "migrate-set-parameters", "arguments": {"max-bandwidth": 33554432}}""";
        Assert.True((await qmp.CommandAsync(limit)).TryGetProperty("return", out _));
        Assert.True((await qmp.CommandAsync(MigrateCommand(destination))).TryGetProperty("return", out _));
        Assert.Contains("postcopy-ram", ErrorOf(await qmp.CommandAsync("""{"execute": "migrate-start-postcopy"}""")));
        Assert.True((await qmp.CommandAsync("""{"execute": "migrate_cancel"}""")).TryGetProperty("return", out _));
        Assert.True(SpinWait.SpinUntil(() => source.QueryMigrate().Status.IsFinished(), Patience), $"{source.QueryMigrate().Status}");
        Assert.Equal(MigrationStatus.Cancelled, source.QueryMigrate().Status);
    }

    [Fact]
    public async Task With_postcopy_ram_on_the_command_switches_the_migration_to_postcopy_once()
    {
        using var source = RunningSource();
        using var destination = new VmHost(Sim);
        destination.StartIncoming("tcp:127.0.0.1:0");
        var path = TestSocketPath.Create();
        await using var server = new QmpServer(path, source, new QmpServerOptions());
        await using var qmp = await Qmp(server, path);

        var capability = """{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "postcopy-ram", "state": true}]}}""";
        Assert.True((await qmp.CommandAsync(capability)).TryGetProperty("return", out _), "postcopy-ram was refused");
        var limit = """{"execute": "migrate-set-parameters", "arguments": {"max-bandwidth": 67108864}}""";
        Assert.True((await qmp.CommandAsync(limit)).TryGetProperty("return", out _));
        Assert.True((await qmp.CommandAsync(MigrateCommand(destination))).TryGetProperty("return", out _));
        var first = await qmp.CommandAsync("""{"execute": "migrate-start-postcopy"}""");
        Assert.True(first.TryGetProperty("return", out _), first.ToString());
        Assert.Contains("already", ErrorOf(await qmp.CommandAsync("""{"execute": "migrate-start-postcopy"}""")));

        Assert.True(SpinWait.SpinUntil(() => source.QueryMigrate().Status.IsFinished(), Patience), $"{source.QueryMigrate().Status}");
        var info = source.QueryMigrate();
        Assert.True(info.Status == MigrationStatus.Completed, info.ErrorDesc);
        Assert.True(info.Ram!.PostcopyBytes > 0, "nothing was sent in post-copy");
        var reply = await qmp.CommandAsync("""{"execute": "query-migrate"}""");
        Assert.True(reply.GetProperty("return").GetProperty("ram").GetProperty("postcopy-bytes").GetInt64() > 0, reply.ToString());

        // The destination's query-migrate carries Tern's post-copy figures.
        Assert.True(SpinWait.SpinUntil(() => destination.QueryMigrate().Status == MigrationStatus.Completed, Patience), $"{destination.QueryMigrate().Status}");
        var incoming = Tern.Control.Qapi.MigrationInfoJson.ToJson(destination.QueryMigrate());
        var postcopy = incoming["x-postcopy"]!;
        Assert.True((long)postcopy["stale-pages"]! > 0, incoming.ToJsonString());
        Assert.Equal(0L, (long)postcopy["missing-pages"]!);
        Assert.NotNull(postcopy["last-page-ms"]);

        // x-check-guest on the destination, once every page is there: the guest is exactly what its model says.
        var check = destination.CheckGuest(10);
        Assert.True(check.Report.IsExact, check.Report.ToString());
    }
}
