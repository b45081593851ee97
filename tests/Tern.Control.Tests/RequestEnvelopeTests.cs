using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

/// <summary>The request object itself is checked as QEMU's qmp_dispatch checks it, with the same texts.</summary>
public sealed class RequestEnvelopeTests
{
    [Theory]
    [InlineData("[1]")]
    [InlineData("42 ")]
    [InlineData("\"query-status\"")]
    [InlineData("null ")]
    [InlineData("true ")]
    public async Task A_value_that_is_not_an_object_is_refused(string request)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync(request), "QMP input must be a JSON object");
        QmpAssert.Success(await c.CommandAsync("""{"execute": "query-status"}"""));
    }

    [Fact]
    public async Task An_object_without_execute_is_refused()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync("{}"), "QMP input lacks member 'execute'");
        QmpAssert.GenericError(await c.CommandAsync("""{"arguments": {}}"""), "QMP input lacks member 'execute'");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("null")]
    [InlineData("{\"name\": \"stop\"}")]
    [InlineData("[\"stop\"]")]
    public async Task Execute_must_be_a_string(string value)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync($$"""{"execute": {{value}}}"""), "QMP input member 'execute' must be a string");
        Assert.Empty(host.Vm.Calls);
    }

    [Fact]
    public async Task Arguments_must_be_an_object()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "migrate", "arguments": ["tcp:h:1"]}"""),
            "QMP input member 'arguments' must be an object");
        Assert.Empty(host.Vm.Calls);
    }

    [Fact]
    public async Task Unknown_request_members_are_refused()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "stop", "when": "now"}"""),
            "QMP input member 'when' is unexpected");
        Assert.Empty(host.Vm.Calls);
    }

    [Fact]
    public async Task Unknown_commands_are_CommandNotFound()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.Error(await c.CommandAsync("""{"execute": "foo"}"""), "CommandNotFound", "The command foo has not been found");
        QmpAssert.Error(await c.CommandAsync("""{"execute": "Query-Status"}"""), "CommandNotFound",
            "The command Query-Status has not been found");
    }
}
