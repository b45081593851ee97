using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

/// <summary>query-status, stop, cont.</summary>
public sealed class RunStateCommandTests
{
    [Theory]
    [InlineData(RunState.Running, "running", true)]
    [InlineData(RunState.Paused, "paused", false)]
    [InlineData(RunState.InMigrate, "inmigrate", false)]
    [InlineData(RunState.FinishMigrate, "finish-migrate", false)]
    [InlineData(RunState.PostMigrate, "postmigrate", false)]
    public async Task Query_status_reports_the_run_state(RunState state, string name, bool running)
    {
        await using var host = QmpTestHost.Start();
        host.Vm.RunState = state;
        await using var c = await host.ConnectNegotiatedAsync();

        var status = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-status"}"""));

        Assert.Equal(running, status.GetProperty("running").GetBoolean());
        Assert.False(status.GetProperty("singlestep").GetBoolean());
        Assert.Equal(name, status.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Stop_pauses_and_emits_STOP_before_the_reply()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        await c.SendAsync("{\"execute\": \"stop\", \"id\": 1}\n");
        var first = await c.ReadMessageAsync();
        var second = await c.ReadMessageAsync();

        Assert.Equal("STOP", first.GetProperty("event").GetString());
        Assert.False(first.TryGetProperty("data", out _));   // QEMU sends STOP without data
        QmpAssert.Success(second);
        Assert.Equal(RunState.Paused, host.Vm.RunState);
    }

    [Fact]
    public async Task Cont_resumes_and_emits_RESUME()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.RunState = RunState.Paused;
        await using var c = await host.ConnectNegotiatedAsync();

        await c.SendAsync("{\"execute\": \"cont\"}\n");

        Assert.Equal("RESUME", (await c.ReadMessageAsync()).GetProperty("event").GetString());
        QmpAssert.Success(await c.ReadMessageAsync());
        Assert.Equal(RunState.Running, host.Vm.RunState);
    }

    [Fact]
    public async Task A_refusal_from_the_VM_becomes_a_GenericError_with_its_message()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.RunState = RunState.PostMigrate;
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "cont"}"""),
            "the guest migrated away and now runs on the destination");
    }

    [Theory]
    [InlineData("query-status")]
    [InlineData("stop")]
    [InlineData("cont")]
    [InlineData("quit")]
    [InlineData("query-version")]
    [InlineData("query-commands")]
    [InlineData("migrate_cancel")]
    [InlineData("query-migrate")]
    [InlineData("query-migrate-capabilities")]
    [InlineData("query-migrate-parameters")]
    public async Task Commands_without_arguments_refuse_any(string command)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync($$$"""{"execute": "{{{command}}}", "arguments": {"force": true}}"""),
            "Parameter 'force' is unexpected");
        Assert.Empty(host.Vm.Calls);
        QmpAssert.Success(await c.CommandAsync($$$"""{"execute": "{{{command}}}", "arguments": {}}"""));
    }
}
