using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

/// <summary>migrate, migrate-incoming and migrate_cancel.</summary>
public sealed class MigrateCommandTests
{
    [Fact]
    public async Task Migrate_starts_a_migration_and_returns_at_once()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.Success(await c.CommandAsync("""{"execute": "migrate", "arguments": {"uri": "tcp:10.0.0.2:4444", "detach": true}}"""));

        Assert.Equal(["migrate:tcp:10.0.0.2:4444"], host.Vm.Calls);
        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate"}"""));
        Assert.Equal("setup", info.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("{}", "Parameter 'uri' is missing")]
    [InlineData("{\"uri\": 4444}", "Invalid parameter type for 'uri', expected: string")]
    [InlineData("{\"uri\": null}", "Invalid parameter type for 'uri', expected: string")]
    [InlineData("{\"uri\": \"tcp:h:1\", \"speed\": 1}", "Parameter 'speed' is unexpected")]
    [InlineData("{\"speed\": 1}", "Parameter 'uri' is missing")]
    [InlineData("{\"uri\": \"tcp:h:1\", \"detach\": \"yes\"}", "Invalid parameter type for 'detach', expected: boolean")]
    [InlineData("{\"uri\": \"tcp:h:1\", \"blk\": 1}", "Invalid parameter type for 'blk', expected: boolean")]
    public async Task Migrate_checks_its_arguments(string arguments, string error)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync($$$"""{"execute": "migrate", "arguments": {{{arguments}}}}"""), error);
        Assert.Empty(host.Vm.Calls);
    }

    [Theory]
    [InlineData("blk", "Tern does not migrate disks")]
    [InlineData("inc", "Tern does not migrate disks")]
    [InlineData("resume", "post-copy")]
    public async Task Block_migration_and_resume_are_refused_clearly(string flag, string fragment)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.ErrorContaining(
            await c.CommandAsync($$$"""{"execute": "migrate", "arguments": {"uri": "tcp:h:1", "{{{flag}}}": true}}"""), fragment);
        Assert.Empty(host.Vm.Calls);
        QmpAssert.Success(await c.CommandAsync($$$"""{"execute": "migrate", "arguments": {"uri": "tcp:h:1", "{{{flag}}}": false}}"""));
    }

    [Fact]
    public async Task A_second_migrate_while_one_runs_is_refused_by_the_VM()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();
        QmpAssert.Success(await c.CommandAsync("""{"execute": "migrate", "arguments": {"uri": "tcp:h:1"}}"""));

        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "migrate", "arguments": {"uri": "tcp:h:2"}}"""),
            "There's a migration process in progress");
    }

    [Fact]
    public async Task Migrate_cancel_reaches_the_VM()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();
        QmpAssert.Success(await c.CommandAsync("""{"execute": "migrate", "arguments": {"uri": "tcp:h:1"}}"""));

        QmpAssert.Success(await c.CommandAsync("""{"execute": "migrate_cancel"}"""));

        Assert.Contains("migrate_cancel", host.Vm.Calls);
        Assert.Equal(MigrationStatus.Cancelled, host.Vm.QueryMigrate().Status);
    }

    [Fact]
    public async Task Migrate_incoming_passes_the_uri_when_the_VM_waits_for_one()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.IncomingDeferred = true;
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.Success(await c.CommandAsync("""{"execute": "migrate-incoming", "arguments": {"uri": "tcp:0.0.0.0:4444"}}"""));

        Assert.Equal(["migrate-incoming:tcp:0.0.0.0:4444"], host.Vm.Calls);
        Assert.Equal(RunState.InMigrate, host.Vm.RunState);
    }

    [Fact]
    public async Task Migrate_incoming_checks_arguments_and_relays_refusals()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "migrate-incoming"}"""), "Parameter 'uri' is missing");
        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "migrate-incoming", "arguments": {"uri": true}}"""),
            "Invalid parameter type for 'uri', expected: string");
        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "migrate-incoming", "arguments": {"uri": "tcp:h:1", "x": 1}}"""),
            "Parameter 'x' is unexpected");
        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "migrate-incoming", "arguments": {"uri": "tcp:h:1"}}"""),
            "'-incoming' was not specified on the command line");
    }
}
