using System.Text;
using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

/// <summary>Input is a stream of JSON values, not necessarily one per line or one per packet.</summary>
public sealed class FramingTests
{
    [Fact]
    public async Task Two_commands_in_one_packet_get_two_replies_in_order()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        await c.SendAsync("{\"execute\": \"stop\", \"id\": 1}{\"execute\": \"query-status\", \"id\": 2}");

        var first = await c.ReadReplyAsync();
        var second = await c.ReadReplyAsync();
        Assert.Equal(1, first.GetProperty("id").GetInt32());
        Assert.Equal(2, second.GetProperty("id").GetInt32());
        Assert.Equal("paused", QmpAssert.Success(second).GetProperty("status").GetString());
    }

    [Fact]
    public async Task One_command_split_across_packets_is_reassembled()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();
        var bytes = Encoding.UTF8.GetBytes("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:dest:4444\"}, \"id\": \"split\"}");

        foreach (var chunk in bytes.Chunk(7))
        {
            await c.SendAsync(chunk);
            await Task.Delay(2, Ct);   // makes separate reads likely; correctness does not depend on it
        }

        var reply = await c.ReadReplyAsync();
        Assert.Equal("split", reply.GetProperty("id").GetString());
        QmpAssert.Success(reply);
        Assert.Contains("migrate:tcp:dest:4444", host.Vm.Calls);
    }

    [Fact]
    public async Task A_pretty_printed_command_spanning_lines_is_one_command()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        var reply = await c.CommandAsync("{\n  \"execute\": \"migrate\",\n  \"arguments\": {\n    \"uri\": \"tcp:h:1\"\n  }\n}");

        QmpAssert.Success(reply);
        Assert.Contains("migrate:tcp:h:1", host.Vm.Calls);
    }

    [Fact]
    public async Task Brackets_quotes_and_escapes_inside_strings_do_not_end_a_command()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        var reply = await c.CommandAsync("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:}{][\\\"\\\\:1\"}}");

        QmpAssert.Success(reply);
        Assert.Contains("migrate:tcp:}{][\"\\:1", host.Vm.Calls);
    }
}
