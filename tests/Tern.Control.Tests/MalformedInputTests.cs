using System.Text;
using System.Text.Json;
using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

/// <summary>Garbage gets an error reply and the connection stays usable for the next command.</summary>
public sealed class MalformedInputTests
{
    public static TheoryData<string, string> Garbage => new()
    {
        { "{\"execute\": }\n", "JSON parse error, " },
        { "{\"execute\" \"query-status\"}\n", "JSON parse error, " },
        { "{]\n", "JSON parse error, " },
        { "hello\n", "JSON parse error, " },
        { "}\n", "JSON parse error, unexpected '}'" },
        { "]]]\n", "JSON parse error, unexpected ']'" },
        { "{\"execute\": \"query-status\n\"}\n", "JSON parse error, control character inside a string" },
        { "{\"execute\": 'query-status'}\n", "JSON parse error, " },
        { "{\"execute\": \"query-status\",}\n", "JSON parse error, " },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Garbage_then_a_valid_command_on_the_same_connection(string garbage, string errorStart)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        await c.SendAsync(garbage);
        await c.SendAsync("{\"execute\": \"query-status\", \"id\": \"after\"}\n");

        var replies = await ReadUntilIdAsync(c, "after");
        Assert.True(replies.Count >= 2, "expected at least one error before the reply");
        foreach (var error in replies[..^1])
        {
            QmpAssert.ErrorContaining(error, "JSON parse error, ");
        }
        Assert.StartsWith(errorStart, replies[0].GetProperty("error").GetProperty("desc").GetString());
        Assert.Equal("running", QmpAssert.Success(replies[^1]).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Byte_0xFF_resets_the_parser_even_mid_message()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        await c.SendAsync([.. "{\"execute\": \"sto"u8, 0xFF, .. "{\"execute\": \"query-status\", \"id\": 7}"u8]);

        var replies = await ReadUntilIdAsync(c, 7);
        Assert.Equal(2, replies.Count);
        QmpAssert.GenericError(replies[0], "JSON parse error, stray byte 0xFF");
        QmpAssert.Success(replies[1]);
        Assert.Empty(host.Vm.Calls);
    }

    [Fact]
    public async Task Invalid_utf8_inside_a_string_is_an_error_not_a_crash()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        await c.SendAsync([.. "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:"u8, 0xC3, 0x28, .. "\"}}\n"u8]);
        await c.SendAsync("{\"execute\": \"query-status\", \"id\": 1}\n");

        var replies = await ReadUntilIdAsync(c, 1);
        Assert.Equal(2, replies.Count);
        QmpAssert.ErrorContaining(replies[0], "UTF-8");
        QmpAssert.Success(replies[1]);
    }

    [Fact]
    public async Task Garbage_before_negotiation_does_not_break_negotiation()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectRawAsync();

        await c.SendAsync("}{ not json }\n");
        await c.SendAsync("{\"execute\": \"qmp_capabilities\", \"id\": \"neg\"}\n");

        var replies = await ReadUntilIdAsync(c, "neg");
        QmpAssert.Success(replies[^1]);
        QmpAssert.Success(await c.CommandAsync("{\"execute\": \"query-status\"}"));
    }

    /// <summary>Reads replies until the one carrying <paramref name="id"/>, which comes last in the list.</summary>
    internal static async Task<List<JsonElement>> ReadUntilIdAsync(RawQmpConnection c, object id)
    {
        var expected = JsonSerializer.SerializeToElement(id);
        var replies = new List<JsonElement>();
        while (true)
        {
            var reply = await c.ReadReplyAsync();
            replies.Add(reply);
            if (reply.TryGetProperty("id", out var got) && JsonElement.DeepEquals(got, expected))
            {
                return replies;
            }
            Assert.True(replies.Count < 100, "the reply never came");
        }
    }
}
