using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

public sealed class GreetingAndNegotiationTests
{
    [Fact]
    public async Task Greeting_announces_qemu_7_2_tern_package_and_oob()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await RawQmpConnection.ConnectAsync(host.SocketPath);

        var greeting = (await c.ReadMessageAsync()).GetProperty("QMP");

        var qemu = greeting.GetProperty("version").GetProperty("qemu");
        Assert.Equal(7, qemu.GetProperty("major").GetInt32());
        Assert.Equal(2, qemu.GetProperty("minor").GetInt32());
        Assert.Equal(0, qemu.GetProperty("micro").GetInt32());
        Assert.StartsWith("tern ", greeting.GetProperty("version").GetProperty("package").GetString());
        Assert.Equal(["oob"], greeting.GetProperty("capabilities").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Commands_before_negotiation_are_refused()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectRawAsync();

        var reply = await c.CommandAsync("""{"execute": "query-status"}""");

        QmpAssert.Error(reply, "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
        Assert.Empty(host.Vm.Calls);
    }

    [Fact]
    public async Task Unknown_commands_before_negotiation_get_the_same_answer()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectRawAsync();

        var reply = await c.CommandAsync("""{"execute": "no-such-command"}""");

        QmpAssert.Error(reply, "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
    }

    [Fact]
    public async Task Qmp_capabilities_enters_command_mode()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectRawAsync();

        QmpAssert.Success(await c.CommandAsync("""{"execute": "qmp_capabilities"}"""));
        var status = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-status"}"""));

        Assert.Equal("running", status.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Negotiating_twice_is_refused()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        var reply = await c.CommandAsync("""{"execute": "qmp_capabilities"}""");

        QmpAssert.Error(reply, "CommandNotFound", "Capabilities negotiation is already complete, command ignored");
    }

    [Fact]
    public async Task Failed_negotiation_leaves_the_connection_in_negotiation_mode()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectRawAsync();

        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "qmp_capabilities", "arguments": {"bogus": 1}}"""),
            "Parameter 'bogus' is unexpected");
        QmpAssert.Error(await c.CommandAsync("""{"execute": "query-status"}"""),
            "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
        QmpAssert.Success(await c.CommandAsync("""{"execute": "qmp_capabilities"}"""));
    }

    [Fact]
    public async Task Unknown_capability_is_named()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectRawAsync();

        var reply = await c.CommandAsync("""{"execute": "qmp_capabilities", "arguments": {"enable": ["telepathy"]}}""");

        QmpAssert.GenericError(reply, "Parameter 'enable[0]' does not accept value 'telepathy'");
    }

    [Fact]
    public async Task Exec_oob_is_unexpected_unless_oob_was_enabled()
    {
        await using var host = QmpTestHost.Start();
        await using var plain = await host.ConnectNegotiatedAsync();
        await using var oob = await host.ConnectRawAsync();
        QmpAssert.Success(await oob.CommandAsync("""{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}"""));

        QmpAssert.GenericError(await plain.CommandAsync("""{"exec-oob": "query-status"}"""),
            "QMP input member 'exec-oob' is unexpected");
        // None of Tern's commands is out-of-band capable, as in QEMU for these commands.
        QmpAssert.GenericError(await oob.CommandAsync("""{"exec-oob": "query-status"}"""),
            "The command query-status does not support OOB");
        QmpAssert.GenericError(await oob.CommandAsync("""{"execute": "query-status", "exec-oob": "query-status"}"""),
            "QMP input must not contain both 'execute' and 'exec-oob'");
    }
}
