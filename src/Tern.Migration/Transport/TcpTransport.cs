using System.Net;
using System.Net.Sockets;
using Tern.Migration.Protocol;

namespace Tern.Migration.Transport;

/// <summary>Opens migration connections over TCP: one main connection plus one per extra page channel.</summary>
public static class TcpTransport
{
    /// <summary>Socket buffers large enough to keep a fast link busy across a pass boundary.</summary>
    private const int BufferBytes = 4 << 20;

    public static async Task<FrameConnection> ConnectAsync(MigrationUri uri, TimeSpan timeout, CancellationToken cancel)
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
        return new FrameConnection(new NetworkStream(socket, ownsSocket: true), socket.RemoteEndPoint?.ToString() ?? uri.ToString());
    }

    /// <summary>Starts listening; the caller accepts connections from the returned listener.</summary>
    public static TcpListener Listen(MigrationUri uri)
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
        return listener;
    }

    public static async Task<FrameConnection> AcceptAsync(TcpListener listener, CancellationToken cancel)
    {
        var socket = await listener.AcceptSocketAsync(cancel);
        Configure(socket);
        return new FrameConnection(new NetworkStream(socket, ownsSocket: true), socket.RemoteEndPoint?.ToString() ?? "peer");
    }

    /// <summary>The port actually bound (for tcp:HOST:0).</summary>
    public static int BoundPort(TcpListener listener) => ((IPEndPoint)listener.LocalEndpoint).Port;

    internal static void Configure(Socket socket)
    {
        socket.NoDelay = true;
        socket.SendBufferSize = BufferBytes;
        socket.ReceiveBufferSize = BufferBytes;
    }
}
