using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

public sealed class VersionAndCommandsTests
{
    [Fact]
    public async Task Query_version_matches_the_greeting()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await RawQmpConnection.ConnectAsync(host.SocketPath);
        var greeting = (await c.ReadMessageAsync()).GetProperty("QMP").GetProperty("version");
        QmpAssert.Success(await c.CommandAsync("""{"execute": "qmp_capabilities"}"""));

        var version = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-version"}"""));

        Assert.Equal(greeting.ToString(), version.ToString());
        Assert.Equal(7, version.GetProperty("qemu").GetProperty("major").GetInt32());
    }

    [Fact]
    public async Task Query_commands_lists_every_command_served()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        var names = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-commands"}"""))
            .EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToHashSet();

        string[] expected =
        [
            "qmp_capabilities", "query-version", "query-commands", "query-status", "stop", "cont", "quit",
            "migrate", "migrate-incoming", "migrate_cancel", "migrate-start-postcopy", "migrate-pause", "migrate-recover", "query-migrate", "query-migrate-capabilities",
            "migrate-set-capabilities", "query-migrate-parameters", "migrate-set-parameters", "calc-dirty-rate", "query-dirty-rate", "x-query-guest",
            "x-check-guest", "x-query-migrate-history", "set-vcpu-dirty-limit", "cancel-vcpu-dirty-limit", "query-vcpu-dirty-limit",
        ];
        Assert.Equal(expected.ToHashSet(), names);
        foreach (var name in names.Where(n => n != "qmp_capabilities"))
        {
            var reply = await c.CommandAsync($$$"""{"execute": "{{{name}}}", "arguments": {"probe": 1}}""");
            Assert.False(reply.GetProperty("error").GetProperty("class").GetString() == "CommandNotFound", name);
        }
    }
}
