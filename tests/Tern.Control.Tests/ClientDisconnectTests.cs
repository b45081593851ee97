using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

/// <summary>A client that goes away disturbs neither the VM nor the other clients.</summary>
public sealed class ClientDisconnectTests
{
    [Fact]
    public async Task A_client_leaving_mid_migration_leaves_the_migration_running()
    {
        await using var host = QmpTestHost.Start();
        var starter = await host.ConnectNegotiatedAsync();
        await using var watcher = await host.ConnectNegotiatedAsync();
        QmpAssert.Success(await starter.CommandAsync("""
            {"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "events", "state": true}]}}
            """));
        QmpAssert.Success(await starter.CommandAsync("""{"execute": "migrate", "arguments": {"uri": "tcp:h:1"}}"""));

        await starter.DisposeAsync();
        while (host.Server.ClientCount != 1) await Task.Delay(5, Ct);
        host.Vm.SetMigration(SampleMigrations.Active);

        var info = QmpAssert.Success(await watcher.CommandAsync("""{"execute": "query-migrate"}"""));
        Assert.Equal("active", info.GetProperty("status").GetString());
        Assert.DoesNotContain("migrate_cancel", host.Vm.Calls);
        host.Vm.SetMigration(SampleMigrations.Completed);
        Assert.Equal(MigrationStatus.Completed, host.Vm.QueryMigrate().Status);
    }

    [Fact]
    public async Task A_client_leaving_while_its_command_runs_does_not_disturb_the_server()
    {
        await using var host = QmpTestHost.Start();
        using var gate = new ManualResetEventSlim(false);
        host.Vm.StopGate = gate;
        var leaver = await host.ConnectNegotiatedAsync();
        await using var other = await host.ConnectNegotiatedAsync();

        await leaver.SendAsync("{\"execute\": \"stop\"}\n");
        while (!host.Vm.Calls.Contains("stop")) await Task.Delay(5, Ct);
        await leaver.DisposeAsync();
        gate.Set();   // the command finishes after its client left; its reply has nowhere to go

        Assert.Equal("STOP", (await other.ReadMessageAsync()).GetProperty("event").GetString());
        var status = QmpAssert.Success(await other.CommandAsync("""{"execute": "query-status"}"""));
        Assert.Equal("paused", status.GetProperty("status").GetString());
        while (host.Server.ClientCount != 1) await Task.Delay(5, Ct);
    }

    [Fact]
    public async Task A_client_that_leaves_during_negotiation_is_forgotten()
    {
        await using var host = QmpTestHost.Start();
        var c = await host.ConnectRawAsync();

        await c.SendAsync("{\"execute\": \"qmp_capa");
        await c.DisposeAsync();

        while (host.Server.ClientCount != 0) await Task.Delay(5, Ct);
        await using var next = await host.ConnectNegotiatedAsync();
    }
}
