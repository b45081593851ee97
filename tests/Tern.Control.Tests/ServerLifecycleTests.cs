using System.Net.Sockets;
using Tern.Control.Qmp;
using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

public sealed class ServerLifecycleTests
{
    [Fact]
    public async Task Quit_reaches_the_VM_and_its_reply_is_flushed_when_the_host_then_disposes_the_server()
    {
        var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        await c.SendAsync("{\"execute\": \"quit\", \"id\": \"bye\"}\n");
        while (!host.Vm.QuitRequested) await Task.Delay(5, Ct);
        await host.DisposeAsync();   // what the VM host does when it shuts down

        var reply = await c.ReadReplyAsync();
        Assert.Equal("bye", reply.GetProperty("id").GetString());
        QmpAssert.Success(reply);
        Assert.Null(await c.ReadLineAsync());   // then the connection closes
    }

    [Fact]
    public async Task Dispose_closes_every_client_removes_the_socket_and_unsubscribes()
    {
        var host = QmpTestHost.Start();
        await using var a = await host.ConnectNegotiatedAsync();
        await using var b = await host.ConnectRawAsync();
        Assert.True(File.Exists(host.SocketPath));

        await host.DisposeAsync();

        Assert.Null(await a.ReadLineAsync());
        Assert.Null(await b.ReadLineAsync());
        Assert.False(File.Exists(host.SocketPath));
        Assert.False(host.Vm.HasEventSubscribers);
        Assert.Equal(0, host.Server.ClientCount);
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced()
    {
        var path = TestSocketPath.Create();
        // Bound but not listening: what a crashed process leaves behind. (Disposing it would remove the file, so it
        // stays open until the end; by then the server has replaced the file and removed its own.)
        using var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stale.Bind(new UnixDomainSocketEndPoint(path));
        Assert.True(File.Exists(path));

        await using (var server = new QmpServer(path, new FakeVm()))
        {
            server.Start();

            await using var c = await RawQmpConnection.ConnectAsync(path);
            Assert.True((await c.ReadMessageAsync()).TryGetProperty("QMP", out _));
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_socket_another_server_is_using_is_not_taken_over()
    {
        await using var host = QmpTestHost.Start();

        await using var second = new QmpServer(host.SocketPath, new FakeVm());
        var e = Assert.Throws<IOException>(second.Start);

        Assert.Contains("in use by another process", e.Message);
        await using var c = await host.ConnectNegotiatedAsync();   // the first server is unharmed
    }

    [Fact]
    public void A_path_too_long_for_a_unix_socket_is_refused_with_the_limit()
    {
        var path = "/tmp/" + new string('q', 150) + ".sock";

        var e = Assert.Throws<IOException>(new QmpServer(path, new FakeVm()).Start);

        Assert.Contains("at most 107", e.Message);
    }

    [Fact]
    public void Bad_options_are_refused_up_front()
    {
        Assert.Throws<ArgumentException>(() => new QmpServer("/tmp/x.sock", new FakeVm(), new QmpServerOptions { ClientQueueCapacity = 0 }));
        Assert.Throws<ArgumentException>(() => new QmpServer("/tmp/x.sock", new FakeVm(), new QmpServerOptions { MaxMessageBytes = 10 }));
    }
}
