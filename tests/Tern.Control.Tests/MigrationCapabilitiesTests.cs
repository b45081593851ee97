using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

public sealed class MigrationCapabilitiesTests
{
    [Fact]
    public async Task Query_lists_every_capability_with_its_state()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.SetCapabilities(new Dictionary<MigrationCapability, bool> { [MigrationCapability.Xbzrle] = true });
        await using var c = await host.ConnectNegotiatedAsync();

        var list = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate-capabilities"}"""))
            .EnumerateArray().ToDictionary(e => e.GetProperty("capability").GetString()!, e => e.GetProperty("state").GetBoolean());

        Assert.Equal(Enum.GetValues<MigrationCapability>().Select(c => c.ToQapi()).Order(), list.Keys.Order());
        Assert.True(list["xbzrle"]);
        Assert.False(list["x-verify"]);
        Assert.False(list["multifd"]);
    }

    [Fact]
    public async Task Set_applies_only_the_named_capabilities()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.Success(await c.CommandAsync("""
            {"execute": "migrate-set-capabilities", "arguments": {"capabilities": [
                {"capability": "x-verify", "state": true}, {"capability": "multifd", "state": true}]}}
            """));

        var caps = host.Vm.GetCapabilities();
        Assert.True(caps[MigrationCapability.Verify]);
        Assert.True(caps[MigrationCapability.Multifd]);
        Assert.False(caps[MigrationCapability.Xbzrle]);
        Assert.Equal(["set-capabilities:x-verify=True,multifd=True"], host.Vm.Calls);
    }

    [Theory]
    [InlineData("{}", "Parameter 'capabilities' is missing")]
    [InlineData("{\"capabilities\": {\"capability\": \"xbzrle\", \"state\": true}}", "Invalid parameter type for 'capabilities', expected: array")]
    [InlineData("{\"capabilities\": [\"xbzrle\"]}", "Invalid parameter type for 'capabilities[0]', expected: object")]
    [InlineData("{\"capabilities\": [{\"capability\": \"telepathy\", \"state\": true}]}", "Parameter 'capability' does not accept value 'telepathy'")]
    [InlineData("{\"capabilities\": [{\"capability\": 3, \"state\": true}]}", "Invalid parameter type for 'capabilities[0].capability', expected: string")]
    [InlineData("{\"capabilities\": [{\"capability\": \"xbzrle\", \"state\": true}, {\"capability\": \"xbzrle\"}]}", "Parameter 'capabilities[1].state' is missing")]
    [InlineData("{\"capabilities\": [{\"capability\": \"xbzrle\", \"state\": 1}]}", "Invalid parameter type for 'capabilities[0].state', expected: boolean")]
    [InlineData("{\"capabilities\": [{\"capability\": \"xbzrle\", \"state\": true, \"when\": 1}]}", "Parameter 'capabilities[0].when' is unexpected")]
    [InlineData("{\"capabilities\": [], \"extra\": 1}", "Parameter 'extra' is unexpected")]
    public async Task Set_checks_its_arguments_and_changes_nothing_on_error(string arguments, string error)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(
            await c.CommandAsync($$"""{"execute": "migrate-set-capabilities", "arguments": {{arguments}}}"""), error);

        Assert.Empty(host.Vm.Calls);
        Assert.DoesNotContain(true, host.Vm.GetCapabilities().Values);
    }

    [Fact]
    public async Task A_capability_the_VM_cannot_change_now_is_refused_with_its_reason()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();
        QmpAssert.Success(await c.CommandAsync("""{"execute": "migrate", "arguments": {"uri": "tcp:h:1"}}"""));

        var reply = await c.CommandAsync("""
            {"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "multifd", "state": true}]}}
            """);

        QmpAssert.GenericError(reply, "multifd cannot be switched while a migration runs");
        Assert.False(host.Vm.GetCapabilities()[MigrationCapability.Multifd]);
    }
}
