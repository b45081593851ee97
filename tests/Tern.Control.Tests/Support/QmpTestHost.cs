using System.Collections.Concurrent;
using Tern.Control.Qmp;

namespace Tern.Control.Tests.Support;

/// <summary>A <see cref="QmpServer"/> on a fresh socket in front of a <see cref="FakeVm"/>, with its warnings captured.</summary>
public sealed class QmpTestHost : IAsyncDisposable
{
    private QmpTestHost(string path, FakeVm vm, QmpServer server)
    {
        SocketPath = path;
        Vm = vm;
        Server = server;
    }

    public string SocketPath { get; }
    public FakeVm Vm { get; }
    public QmpServer Server { get; }
    public ConcurrentQueue<string> Warnings { get; } = new();

    public static QmpTestHost Start(QmpServerOptions? options = null, FakeVm? vm = null)
    {
        var path = TestSocketPath.Create();
        vm ??= new FakeVm();
        QmpTestHost? host = null;
        var server = new QmpServer(path, vm, (options ?? new QmpServerOptions()) with
        {
            LogWarning = message => host?.Warnings.Enqueue(message),
        });
        host = new QmpTestHost(path, vm, server);
        server.Start();
        return host;
    }

    /// <summary>A raw connection that has read the greeting and is still in capabilities negotiation mode.</summary>
    public async Task<RawQmpConnection> ConnectRawAsync()
    {
        var c = await RawQmpConnection.ConnectAsync(SocketPath);
        await c.ReadMessageAsync();   // greeting
        return c;
    }

    /// <summary>A raw connection in command mode.</summary>
    public async Task<RawQmpConnection> ConnectNegotiatedAsync()
    {
        var c = await ConnectRawAsync();
        var reply = await c.CommandAsync("""{"execute": "qmp_capabilities"}""");
        Assert.True(reply.TryGetProperty("return", out _), reply.ToString());
        return c;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
