using System.Net;
using System.Net.Sockets;

namespace Tern.Migration.Tests.Support;

/// <summary>Two ends of a real loopback TCP connection, with read timeouts so a test never hangs on a read.</summary>
internal sealed class SocketPair : IDisposable
{
    public SocketPair()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var connecting = new TcpClient();
            connecting.Connect(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            var accepted = listener.AcceptTcpClient();
            Left = connecting;
            Right = accepted;
            foreach (var c in new[] { Left, Right }) c.ReceiveTimeout = 10_000;
        }
        finally
        {
            listener.Stop();
        }
    }

    public TcpClient Left { get; }
    public TcpClient Right { get; }

    public void Dispose()
    {
        Left.Dispose();
        Right.Dispose();
    }
}
