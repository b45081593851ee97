using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tern.Bench.Macro;

/// <summary>
/// The practical limit of a migration over loopback: plain TCP sockets pumping large buffers from one thread to
/// another, with no framing, no page scanning and no copy out of guest RAM. Sockets are set up as Tern's transport
/// sets up its own (TcpTransport: no Nagle, 4 MiB buffers), so the two differ only in what the engine does.
/// </summary>
public static class LoopbackThroughput
{
    private const int BufferBytes = 4 << 20;
    private const int ChunkBytes = 1 << 20;

    /// <summary>Bytes per second received over <paramref name="streams"/> parallel connections during <paramref name="duration"/>.</summary>
    public static double Measure(int streams, TimeSpan duration)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(streams);
        var pairs = new List<(Socket Client, Socket Server)>();
        try
        {
            for (int i = 0; i < streams; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                Configure(client);
                client.Connect(listener.LocalEndPoint!);
                var server = listener.Accept();
                Configure(server);
                pairs.Add((client, server));
            }

            long received = 0;
            var start = new ManualResetEventSlim(false);
            long deadline = 0;
            var threads = new List<Thread>();
            foreach (var (client, server) in pairs)
            {
                threads.Add(new Thread(() => Send(client, start, () => Volatile.Read(ref deadline))) { IsBackground = true, Name = "loopback sender" });
                threads.Add(new Thread(() => Interlocked.Add(ref received, Receive(server, start))) { IsBackground = true, Name = "loopback receiver" });
            }
            foreach (var t in threads) t.Start();
            long started = Stopwatch.GetTimestamp();
            Volatile.Write(ref deadline, started + (long)(duration.TotalSeconds * Stopwatch.Frequency));
            start.Set();
            foreach (var t in threads) t.Join();
            return Interlocked.Read(ref received) / Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        finally
        {
            foreach (var (client, server) in pairs) { client.Dispose(); server.Dispose(); }
        }
    }

    private static void Configure(Socket socket)
    {
        socket.NoDelay = true;
        socket.SendBufferSize = BufferBytes;
        socket.ReceiveBufferSize = BufferBytes;
    }

    private static void Send(Socket socket, ManualResetEventSlim start, Func<long> deadline)
    {
        // Non-zero, varied bytes: nothing on the path may take a shortcut for zeros.
        var chunk = new byte[ChunkBytes];
        new Random(7).NextBytes(chunk);
        start.Wait();
        while (Stopwatch.GetTimestamp() < deadline())
        {
            int sent = 0;
            while (sent < chunk.Length) sent += socket.Send(chunk, sent, chunk.Length - sent, SocketFlags.None);
        }
        socket.Shutdown(SocketShutdown.Send);
    }

    private static long Receive(Socket socket, ManualResetEventSlim start)
    {
        var buffer = new byte[ChunkBytes];
        start.Wait();
        long total = 0;
        int n;
        while ((n = socket.Receive(buffer)) > 0) total += n;
        return total;
    }
}
