using System.Text.Json.Nodes;
using Tern.Control.Qmp;
using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

public sealed class QmpClientTests
{
    [Fact]
    public async Task Connect_reads_the_greeting_and_negotiates()
    {
        await using var host = QmpTestHost.Start();

        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);

        Assert.Equal(7, client.Greeting.GetProperty("version").GetProperty("qemu").GetProperty("major").GetInt32());
        var status = await client.ExecuteAsync("query-status", cancel: Ct);
        Assert.Equal("running", status.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Error_replies_become_QmpErrorException_with_class_and_desc()
    {
        await using var host = QmpTestHost.Start();
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);

        var missing = await Assert.ThrowsAsync<QmpErrorException>(() => client.ExecuteAsync("migrate", cancel: Ct));
        var unknown = await Assert.ThrowsAsync<QmpErrorException>(() => client.ExecuteAsync("frobnicate", cancel: Ct));

        Assert.Equal("migrate", missing.Command);
        Assert.Equal("GenericError", missing.ErrorClass);
        Assert.Equal("Parameter 'uri' is missing", missing.Description);
        Assert.Equal("Parameter 'uri' is missing", missing.Message);
        Assert.Equal("CommandNotFound", unknown.ErrorClass);
    }

    [Fact]
    public async Task Arguments_are_sent_and_typed_helpers_work()
    {
        await using var host = QmpTestHost.Start();
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);

        await client.SetCapabilitiesAsync([new(MigrationCapability.Xbzrle, true)], Ct);
        await client.SetParametersAsync(new JsonObject { ["downtime-limit"] = 123 }, Ct);
        await client.MigrateAsync("tcp:dest:4444", Ct);
        host.Vm.SetMigration(SampleMigrations.Active);
        var info = await client.QueryMigrateAsync(Ct);

        Assert.True(host.Vm.GetCapabilities()[MigrationCapability.Xbzrle]);
        Assert.Equal(123, host.Vm.GetParameters().DowntimeLimitMs);
        Assert.Contains("migrate:tcp:dest:4444", host.Vm.Calls);
        Assert.Equal(SampleMigrations.Active, info);
    }

    [Fact]
    public async Task Events_arrive_on_the_event_channel()
    {
        await using var host = QmpTestHost.Start();
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);
        await client.SetCapabilitiesAsync([new(MigrationCapability.Events, true)], Ct);

        host.Vm.StartPass(4);
        host.Vm.Raise(VmEvent.Stop());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var pass = await client.Events.ReadAsync(timeout.Token);
        var stop = await client.Events.ReadAsync(timeout.Token);
        Assert.Equal("MIGRATION_PASS", pass.Name);
        Assert.Equal(4, pass.Data!.Value.GetProperty("pass").GetInt64());
        Assert.Equal("STOP", stop.Name);
        Assert.Null(stop.Data);
        Assert.InRange(stop.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Concurrent_commands_get_their_own_replies()
    {
        await using var host = QmpTestHost.Start();
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);

        var tasks = Enumerable.Range(0, 50).Select(i => i % 2 == 0
            ? client.ExecuteAsync("query-status", cancel: Ct).ContinueWith(t => t.Result.GetProperty("status").GetString())
            : client.ExecuteAsync("query-migrate-parameters", cancel: Ct).ContinueWith(t => t.Result.GetProperty("x-compress-method").GetString()));
        var results = await Task.WhenAll(tasks);

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? "running" : "zstd", results[i]);
        }
    }

    [Fact]
    public async Task A_missing_socket_gives_an_operator_message()
    {
        var path = TestSocketPath.Create();

        var e = await Assert.ThrowsAsync<QmpConnectionException>(() => QmpClient.ConnectAsync(path, Ct));

        Assert.StartsWith($"cannot connect to QMP socket {path}: ", e.Message);
        Assert.EndsWith($"(is the VM running with --qmp unix:{path}?)", e.Message);
    }

    [Fact]
    public async Task A_server_going_away_fails_commands_with_QmpConnectionException()
    {
        var host = QmpTestHost.Start();
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);

        await host.DisposeAsync();

        await Assert.ThrowsAsync<QmpConnectionException>(() => client.ExecuteAsync("query-status", cancel: Ct));
        Assert.False(await client.Events.WaitToReadAsync(Ct));   // the event stream completes
    }
}
