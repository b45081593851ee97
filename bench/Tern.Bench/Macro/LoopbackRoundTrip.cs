using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tern.Bench.Macro;

/// <summary>
/// The least a post-copy fault can cost over loopback: a request (one page number, 8 bytes) and its answer (one 4 KiB
/// page) between two threads over a TCP connection set up as Tern's transport sets up its own (no Nagle). No framing,
/// no guest RAM, no userfaultfd: the destination's fault thread, its request writer and the page placement add to this.
/// </summary>
public static class LoopbackRoundTrip
{
    private const int RequestBytes = 8;
    private const int PageBytes = 4096;

    /// <summary>Round trips of one page, in microseconds (after a warm-up of a tenth as many).</summary>
    public static Samples Measure(int count)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Connect(listener.LocalEndPoint!);
        using var server = listener.Accept();
        server.NoDelay = true;
        int warmUp = Math.Max(1, count / 10);
        var answer = new Thread(() => Serve(server, warmUp + count)) { IsBackground = true, Name = "loopback page server" };
        answer.Start();
        var request = new byte[RequestBytes];
        var page = new byte[PageBytes];
        var samples = new Samples();
        for (int i = 0; i < warmUp + count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            BitConverter.TryWriteBytes(request, (ulong)i);
            client.Send(request);
            ReadExactly(client, page);
            if (i >= warmUp) samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        answer.Join();
        return samples;
    }

    private static void Serve(Socket socket, int requests)
    {
        var request = new byte[RequestBytes];
        var page = new byte[PageBytes];
        new Random(11).NextBytes(page);
        for (int i = 0; i < requests; i++)
        {
            ReadExactly(socket, request);
            socket.Send(page);
        }
    }

    private static void ReadExactly(Socket socket, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
            if (n == 0) throw new IOException("the loopback peer closed the connection");
            read += n;
        }
    }
}
