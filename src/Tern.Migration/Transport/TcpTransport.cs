using System.Net;
using System.Net.Sockets;

namespace Tern.Migration.Transport;

/// <summary>Migration connections over TCP (<c>tcp:HOST:PORT</c>): no Nagle delay, large socket buffers.</summary>
public sealed class TcpTransport : IMigrationTransport
{
    /// <summary>Socket buffers large enough to keep a fast link busy across a pass boundary.</summary>
    internal const int BufferBytes = 4 << 20;

    private readonly MigrationUri uri;

    public TcpTransport(MigrationUri uri)
    {
        if (uri.Scheme != MigrationScheme.Tcp) throw new ArgumentException($"{uri} is not a TCP address", nameof(uri));
        this.uri = uri;
    }

    public string Address => uri.ToString();

    public async Task<MigrationLink> ConnectAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Configure(socket);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(uri.Host is "0" ? "127.0.0.1" : uri.Host, uri.Port, timeoutSource.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            socket.Dispose();
            throw new IOException($"could not connect to {uri} within {timeout.TotalSeconds:0} s: is the destination listening (tern run --incoming {uri})?");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"could not connect to {uri}: {e.Message} (is the destination listening with --incoming {uri}?)", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new SocketLink(socket, socket.RemoteEndPoint?.ToString() ?? uri.ToString());
    }

    public IMigrationListener Listen()
    {
        var listener = new TcpListener(uri.ListenAddress, uri.Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            listener.Start();
        }
        catch (SocketException e)
        {
            throw new IOException($"cannot listen on {uri}: {e.Message}", e);
        }
        return new Listener(listener, uri with { Port = ((IPEndPoint)listener.LocalEndpoint).Port });
    }

    public override string ToString() => Address;

    internal static void Configure(Socket socket)
    {
        socket.NoDelay = true;
        socket.SendBufferSize = BufferBytes;
        socket.ReceiveBufferSize = BufferBytes;
    }

    private sealed class Listener(TcpListener listener, MigrationUri bound) : IMigrationListener
    {
        public string Address => bound.ToString();

        public async Task<MigrationLink> AcceptAsync(CancellationToken cancel)
        {
            var socket = await listener.AcceptSocketAsync(cancel);
            Configure(socket);
            return new SocketLink(socket, socket.RemoteEndPoint?.ToString() ?? "a peer");
        }

        public void Dispose() => listener.Stop();

        public override string ToString() => Address;
    }
}
