using System.Net;
using System.Net.Sockets;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Support;

/// <summary>
/// A loopback proxy in front of a destination that keeps a copy of every byte its first connection (the main
/// connection) carried from the source, so a real migration's stream can be replayed, or mutated and replayed.
/// </summary>
internal sealed class StreamRecorder : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly MemoryStream recorded = new();
    private readonly Task pumping;

    public StreamRecorder(MigrationUri target)
    {
        listener.Start();
        Uri = new MigrationUri("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        pumping = Task.Run(async () =>
        {
            using var source = await listener.AcceptTcpClientAsync();
            using var destination = new TcpClient();
            await destination.ConnectAsync(IPAddress.Loopback, target.Port);
            var forward = Pump(source.GetStream(), destination.GetStream(), recorded);
            var back = Pump(destination.GetStream(), source.GetStream(), null);
            await Task.WhenAll(forward, back);
        });
    }

    /// <summary>Where the source should connect.</summary>
    public MigrationUri Uri { get; }

    /// <summary>The source's bytes on the main connection, once the migration has ended.</summary>
    public byte[] Recorded()
    {
        pumping.Wait(TimeSpan.FromSeconds(10));
        lock (recorded) return recorded.ToArray();
    }

    private static async Task Pump(NetworkStream from, NetworkStream to, MemoryStream? copy)
    {
        var buffer = new byte[64 << 10];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer)) > 0)
            {
                if (copy is not null) lock (copy) copy.Write(buffer, 0, n);
                await to.WriteAsync(buffer.AsMemory(0, n));
            }
            to.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // One side closed: the migration is over.
        }
    }

    public void Dispose() => listener.Stop();
}
