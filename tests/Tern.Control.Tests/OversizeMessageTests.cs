using System.Text;
using Tern.Control.Qmp;
using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

public sealed class OversizeMessageTests
{
    [Fact]
    public async Task A_message_over_the_default_1_MiB_cap_is_refused_and_the_connection_stays_usable()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();
        var huge = "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:" + new string('x', 3 << 20) + "\"}}\n";

        var send = c.SendAsync(huge);   // the server reads it all while replying, so this does not stall
        var first = await c.ReadReplyAsync();
        await send;
        var after = await c.CommandAsync("{\"execute\": \"query-status\"}");

        QmpAssert.GenericError(first, $"JSON parse error, message longer than {QmpServerOptions.DefaultMaxMessageBytes} bytes");
        QmpAssert.Success(after);
        Assert.DoesNotContain(host.Vm.Calls, call => call.StartsWith("migrate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_oversize_message_is_reported_once_even_if_it_contains_brackets_and_strings()
    {
        await using var host = QmpTestHost.Start(new QmpServerOptions { MaxMessageBytes = 1024 });
        await using var c = await host.ConnectNegotiatedAsync();
        var body = new StringBuilder("{\"execute\": \"query-status\", \"arguments\": {\"pad\": [");
        for (var i = 0; i < 500; i++) body.Append("{\"s\": \"}]\\\"{\"}, ");
        body.Append("1]}, \"id\": \"big\"}\n");

        await c.SendAsync(body.ToString());
        await c.SendAsync("{\"execute\": \"query-status\", \"id\": \"next\"}\n");

        var replies = await MalformedInputTests.ReadUntilIdAsync(c, "next");
        Assert.Equal(2, replies.Count);
        QmpAssert.GenericError(replies[0], "JSON parse error, message longer than 1024 bytes");
        QmpAssert.Success(replies[1]);
    }
}
