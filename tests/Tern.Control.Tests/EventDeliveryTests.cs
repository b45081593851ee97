using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

public sealed class EventDeliveryTests
{
    [Fact]
    public async Task Every_client_in_command_mode_receives_each_event()
    {
        await using var host = QmpTestHost.Start();
        await using var a = await host.ConnectNegotiatedAsync();
        await using var b = await host.ConnectNegotiatedAsync();
        host.Vm.SetCapabilities(new Dictionary<MigrationCapability, bool> { [MigrationCapability.Events] = true });

        host.Vm.SetMigration(new MigrationInfo { Status = MigrationStatus.Active });
        host.Vm.StartPass(2);

        foreach (var c in new[] { a, b })
        {
            var migration = await c.ReadMessageAsync();
            Assert.Equal("MIGRATION", migration.GetProperty("event").GetString());
            Assert.Equal("active", migration.GetProperty("data").GetProperty("status").GetString());
            var pass = await c.ReadMessageAsync();
            Assert.Equal("MIGRATION_PASS", pass.GetProperty("event").GetString());
            Assert.Equal(2, pass.GetProperty("data").GetProperty("pass").GetInt64());
        }
    }

    [Fact]
    public async Task Events_carry_a_QMP_timestamp()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        host.Vm.Raise(VmEvent.Stop());

        var e = await c.ReadMessageAsync();
        var timestamp = e.GetProperty("timestamp");
        var seconds = timestamp.GetProperty("seconds").GetInt64();
        var microseconds = timestamp.GetProperty("microseconds").GetInt64();
        Assert.InRange(seconds, before - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.InRange(microseconds, 0, 999_999);
        Assert.False(e.TryGetProperty("data", out _));
    }

    [Fact]
    public async Task No_events_reach_a_client_before_it_negotiates()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectRawAsync();

        host.Vm.Raise(VmEvent.Stop());
        host.Vm.Raise(VmEvent.Shutdown(guest: false, reason: "host-qmp-quit"));
        await c.SendAsync("{\"execute\": \"qmp_capabilities\", \"id\": 1}{\"execute\": \"query-status\", \"id\": 2}");

        // Events raised before negotiation were never queued, so the next two messages are the replies.
        Assert.Equal(1, (await c.ReadMessageAsync()).GetProperty("id").GetInt32());
        Assert.Equal(2, (await c.ReadMessageAsync()).GetProperty("id").GetInt32());
        host.Vm.Raise(VmEvent.Resume());
        Assert.Equal("RESUME", (await c.ReadMessageAsync()).GetProperty("event").GetString());
    }

    [Fact]
    public async Task Custom_events_keep_their_data()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        host.Vm.Raise(VmEvent.Shutdown(guest: true, reason: "guest-shutdown"));

        var e = await c.ReadMessageAsync();
        Assert.Equal("SHUTDOWN", e.GetProperty("event").GetString());
        Assert.True(e.GetProperty("data").GetProperty("guest").GetBoolean());
        Assert.Equal("guest-shutdown", e.GetProperty("data").GetProperty("reason").GetString());
    }
}
