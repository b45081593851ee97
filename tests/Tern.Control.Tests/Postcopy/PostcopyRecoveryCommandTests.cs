using System.Text.Json;
using Tern.Control.Host;
using Tern.Control.Qmp;
using Tern.Control.Tests.Support;
using Tern.Guest;
using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Control.Tests.Postcopy;

/// <summary>
/// QMP's post-copy recovery commands on two real VM hosts (simulated guests, real QMP sockets, a real migration over
/// loopback): migrate-pause during post-copy pauses both sides (MIGRATION events say postcopy-paused), migrate-recover on
/// a new port and migrate with resume: true finish the migration, and the guest is exact on the destination. Wrong use
/// is refused with the reason: resume when nothing is paused, migrate-recover on a destination that is not paused or
/// twice, migrate-pause without an active post-copy.
/// </summary>
public sealed class PostcopyRecoveryCommandTests
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static async Task<RawQmpConnection> Qmp(QmpServer server, string path)
    {
        server.Start();
        var c = await RawQmpConnection.ConnectAsync(path);
        await c.ReadMessageAsync();
        var reply = await c.CommandAsync("""{"execute": "qmp_capabilities"}""");
        Assert.True(reply.TryGetProperty("return", out _), reply.ToString());
        return c;
    }

    private static string ErrorOf(JsonElement reply)
    {
        Assert.True(reply.TryGetProperty("error", out var error), $"expected an error, got {reply}");
        return error.GetProperty("desc").GetString()!;
    }

    private static void Ok(JsonElement reply) => Assert.True(reply.TryGetProperty("return", out _), reply.ToString());

    [Theory]
    [InlineData("destination")]
    [InlineData("source")]
    public async Task Migrate_pause_then_migrate_recover_and_resume_complete_the_migration(string pausedBy)
    {
        using var source = new VmHost(MachineBuilder.Boot(WorkloadSpec.Parse("random:ws=32M"), 64 << 20, 2, Sim), Sim);
        source.Start();
        using var destination = new VmHost(Sim);
        destination.StartIncoming("tcp:127.0.0.1:0");
        var events = new List<string>();
        destination.EventRaised += (_, e) => { if (e.Name == "MIGRATION") lock (events) events.Add(e.Data!.Value.GetProperty("status").GetString()!); };
        destination.Settings.SetCapability(MigrationCapability.Events, true);
        // A slow background stream from the moment post-copy starts (the handler runs on the migration thread, before
        // the stream's first page), so that the pause finds pages still on the source.
        int slowed = 0;
        source.Settings.SetCapability(MigrationCapability.Events, true);
        source.EventRaised += (_, e) =>
        {
            if (e.Name == "MIGRATION" && e.Data!.Value.GetProperty("status").GetString() == "postcopy-active" && Interlocked.Exchange(ref slowed, 1) == 0)
                source.SetParameters(source.GetParameters() with { MaxPostcopyBandwidth = 1 << 20 });
        };
        var sourcePath = TestSocketPath.Create();
        var destinationPath = TestSocketPath.Create();
        await using var sourceServer = new QmpServer(sourcePath, source, new QmpServerOptions());
        await using var destinationServer = new QmpServer(destinationPath, destination, new QmpServerOptions());
        await using var src = await Qmp(sourceServer, sourcePath);
        await using var dst = await Qmp(destinationServer, destinationPath);

        var resume = """{"execute": "migrate", "arguments": {"uri": "tcp:127.0.0.1:1", "resume": true}}""";
        Assert.Contains("no outgoing migration", ErrorOf(await src.CommandAsync(resume)));
        Assert.Contains("no migration", ErrorOf(await src.CommandAsync("""{"execute": "migrate-pause"}""")));
        Assert.Contains("migrate-recover recovers a paused", ErrorOf(await dst.CommandAsync("""{"execute": "migrate-recover", "arguments": {"uri": "tcp:127.0.0.1:0"}}""")));

        Ok(await src.CommandAsync("""{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "postcopy-ram", "state": true}, {"capability": "x-verify", "state": true}]}}"""));
        Ok(await src.CommandAsync("""{"execute": "migrate-set-parameters", "arguments": {"max-bandwidth": 134217728}}"""));
        Ok(await src.CommandAsync("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"" + destination.IncomingAddress + "\"}}"));
        Assert.Contains("resume continues a paused post-copy migration, and this one is", ErrorOf(await src.CommandAsync(resume)));
        Ok(await src.CommandAsync("""{"execute": "migrate-start-postcopy"}"""));
        Assert.True(SpinWait.SpinUntil(() => destination.QueryMigrate().Status == MigrationStatus.PostcopyActive
            && source.QueryMigrate().Status == MigrationStatus.PostcopyActive, Patience), $"{destination.QueryMigrate().Status}");

        Ok(await (pausedBy == "source" ? src : dst).CommandAsync("""{"execute": "migrate-pause"}"""));
        Assert.True(SpinWait.SpinUntil(() => source.QueryMigrate().Status == MigrationStatus.PostcopyPaused
            && destination.QueryMigrate().Status == MigrationStatus.PostcopyPaused, Patience),
            $"source {source.QueryMigrate().Status}, destination {destination.QueryMigrate().Status}");
        Assert.Contains("migrate-pause on the " + pausedBy, (pausedBy == "source" ? source : destination).QueryMigrate().ErrorDesc);
        Assert.Contains("are only on the source", destination.QueryMigrate().ErrorDesc);
        Assert.Equal(RunState.Paused, destination.RunState);
        Assert.Contains("migrate-pause pauses an active post-copy", ErrorOf(await dst.CommandAsync("""{"execute": "migrate-pause"}""")));

        Ok(await dst.CommandAsync("""{"execute": "migrate-recover", "arguments": {"uri": "tcp:127.0.0.1:0"}}"""));
        Assert.Contains("already", ErrorOf(await dst.CommandAsync("""{"execute": "migrate-recover", "arguments": {"uri": "tcp:127.0.0.1:0"}}""")));
        var recoverAt = destination.RecoveryAddress!;
        Assert.NotEqual(destination.IncomingAddress!.Port, recoverAt.Port);
        Ok(await src.CommandAsync("""{"execute": "migrate-set-parameters", "arguments": {"max-postcopy-bandwidth": 0}}"""));
        Ok(await src.CommandAsync("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"" + recoverAt + "\", \"resume\": true}}"));

        Assert.True(SpinWait.SpinUntil(() => source.QueryMigrate().Status.IsFinished() && destination.QueryMigrate().Status.IsFinished(), Patience),
            $"source {source.QueryMigrate().Status} ({source.QueryMigrate().ErrorDesc}), destination {destination.QueryMigrate().Status}");
        var info = source.QueryMigrate();
        Assert.True(info.Status == MigrationStatus.Completed, info.ErrorDesc);
        Assert.True(info.Verification is { Matched: true }, $"{info.Verification}");
        Assert.Equal(MigrationStatus.Completed, destination.QueryMigrate().Status);
        Assert.Equal(RunState.Running, destination.RunState);
        lock (events) Assert.Equal(["postcopy-active", "postcopy-paused", "postcopy-recover", "postcopy-active", "completed"], events.SkipWhile(s => s != "postcopy-active"));
        var check = destination.CheckGuest(10);
        Assert.True(check.Report.IsExact, check.Report.ToString());
    }
}
