using System.Net.Sockets;
using Tern.Os;

namespace Tern.Migration.Transport;

/// <summary>
/// Migration connections over a unix domain socket (<c>unix:PATH</c>), between two processes on one host: the main
/// connection and every page channel connect to the same path.
/// </summary>
/// <remarks>
/// The socket file: a destination that finds a stale socket at its path (a socket file nobody listens on, left by a
/// process that died) removes it and listens there, as QEMU does; unlike QEMU it refuses a path where another process
/// is listening, or where a file that is not a socket lies, rather than unlinking it. It removes its socket file when it
/// stops listening (the .NET runtime unlinks the path a socket was bound to when the socket is closed); a destination
/// that is killed leaves the file behind, and the next one on that path finds it stale.
/// </remarks>
public sealed class UnixSocketTransport : IMigrationTransport
{
    private readonly string path;

    /// <param name="path">Checked already (see <see cref="MigrationUri.TryParse"/>).</param>
    public UnixSocketTransport(string path) => this.path = path;

    public string Address => "unix:" + path;

    public async Task<MigrationLink> ConnectAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        Configure(socket);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeoutSource.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            socket.Dispose();
            throw new IOException($"could not connect to {Address} within {timeout.TotalSeconds:0} s: is the destination listening (tern run --incoming {Address})?");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            string why = e.SocketErrorCode switch
            {
                SocketError.AddressNotAvailable => $"there is no socket at {path}",
                SocketError.ConnectionRefused => $"nothing is listening on the socket at {path}",
                _ => e.Message,
            };
            throw new IOException($"could not connect to {Address}: {why} (is the destination listening with --incoming {Address}?)", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new SocketLink(socket, Address);
    }

    public IMigrationListener Listen()
    {
        RemoveStaleSocket();
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(IncomingBacklog);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"cannot listen on {Address}: {e.Message}", e);
        }
        return new Listener(socket, path);
    }

    /// <summary>Pending connections the kernel queues before they are accepted (the accept loop takes them at once).</summary>
    private const int IncomingBacklog = 64;

    /// <summary>
    /// Clears the path for listening: removes a socket file nobody listens on; refuses a live socket or another file.
    /// </summary>
    private void RemoveStaleSocket()
    {
        SocketPathKind kind;
        try
        {
            kind = UnixSockets.Inspect(path);
        }
        catch (OsException e)
        {
            throw new IOException($"cannot listen on {Address}: {e.Message}", e);
        }
        if (kind == SocketPathKind.Absent) return;
        if (kind == SocketPathKind.NotASocket)
            throw new IOException($"cannot listen on {Address}: {path} exists and is not a socket; remove it or choose another path");
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"cannot listen on {Address}: another process is listening on {path}");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody listens: the file was left behind by a process that ended without removing it.
            }
            catch (SocketException e)
            {
                throw new IOException($"cannot listen on {Address}: the socket at {path} is in use or unreachable ({e.Message})", e);
            }
        }
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot listen on {Address}: the stale socket file {path} could not be removed ({e.Message})", e);
        }
    }

    public override string ToString() => Address;

    private static void Configure(Socket socket)
    {
        // A unix socket's default buffer (about 200 KiB) holds less than one page batch in flight.
        socket.SendBufferSize = TcpTransport.BufferBytes;
        socket.ReceiveBufferSize = TcpTransport.BufferBytes;
    }

    private sealed class Listener(Socket socket, string path) : IMigrationListener
    {
        public string Address => "unix:" + path;

        public async Task<MigrationLink> AcceptAsync(CancellationToken cancel)
        {
            var accepted = await socket.AcceptAsync(cancel);
            Configure(accepted);
            return new SocketLink(accepted, Address);
        }

        /// <summary>Stops listening; closing the bound socket removes its file (the runtime unlinks the bound path).</summary>
        public void Dispose() => socket.Dispose();

        public override string ToString() => Address;
    }
}
