using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

/// <summary>Messages are single CRLF-terminated lines spaced like QEMU's, for line-based and grep-based clients.</summary>
public sealed class WireFormatTests
{
    [Fact]
    public async Task Replies_are_spaced_like_QEMU_and_strings_are_left_alone()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectRawAsync();

        await c.SendAsync("{\"execute\": \"qmp_capabilities\", \"id\": [1,2]}\n");
        Assert.Equal("{\"return\": {}, \"id\": [1, 2]}", await c.ReadLineAsync());

        await c.SendAsync("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"udp:a,b:\\\"c\\\",d\"}}\n");
        Assert.Equal(
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"unsupported migration URI 'udp:a,b:\\\"c\\\",d': use tcp:HOST:PORT\"}}",
            await c.ReadLineAsync());
    }

    [Fact]
    public async Task Every_message_ends_with_CRLF()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await RawQmpConnection.ConnectAsync(host.SocketPath);

        var raw = new byte[4096];
        var n = await c.ReceiveRawAsync(raw);

        Assert.True(n > 2);
        Assert.Equal("\r\n"u8.ToArray(), raw[(n - 2)..n]);
        Assert.Equal(1, raw[..n].Count(b => b == (byte)'\n'));
    }
}
