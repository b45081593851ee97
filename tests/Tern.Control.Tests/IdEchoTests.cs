using System.Text.Json;
using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

public sealed class IdEchoTests
{
    [Theory]
    [InlineData("\"abc\"")]
    [InlineData("42")]
    [InlineData("{\"a\": [1, \"two\", null]}")]
    [InlineData("[1, 2]")]
    [InlineData("null")]
    public async Task Any_id_is_echoed_on_success_and_on_error(string id)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectRawAsync();
        using var expected = JsonDocument.Parse(id);

        var beforeNegotiation = await c.CommandAsync($$"""{"execute": "query-status", "id": {{id}}}""");
        var negotiation = await c.CommandAsync($$"""{"execute": "qmp_capabilities", "id": {{id}}}""");
        var success = await c.CommandAsync($$"""{"id": {{id}}, "execute": "query-status"}""");
        var badArgument = await c.CommandAsync($$"""{"execute": "migrate", "arguments": {}, "id": {{id}}}""");
        var noExecute = await c.CommandAsync($$"""{"id": {{id}}}""");

        foreach (var reply in new[] { beforeNegotiation, negotiation, success, badArgument, noExecute })
        {
            Assert.True(JsonElement.DeepEquals(expected.RootElement, reply.GetProperty("id")), reply.ToString());
        }
    }

    [Fact]
    public async Task Replies_to_requests_without_id_carry_none()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        var reply = await c.CommandAsync("""{"execute": "query-status"}""");

        Assert.False(reply.TryGetProperty("id", out _));
    }
}
