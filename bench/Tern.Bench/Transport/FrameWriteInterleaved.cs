using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Bench.Transport;

/// <summary>
/// <c>dotnet run -c Release --project bench/Tern.Bench -- frames [ROUNDS]</c>: the loops of
/// <see cref="FrameWriteBenchmarks"/>, interleaved: each round writes N frames with each variant, in rotating order,
/// and the medians of frames per second are printed. On a loaded machine this cancels the drift between the separate
/// measurement phases of BenchmarkDotNet.
/// </summary>
public static class FrameWriteInterleaved
{
    public static int Run(string[] args)
    {
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 15;
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var sending = new Socket(SocketType.Stream, ProtocolType.Tcp);
        sending.Connect(listener.LocalEndPoint!);
        using var draining = listener.Accept();
        foreach (var s in new[] { sending, draining })
        {
            s.NoDelay = true;
            s.SendBufferSize = 4 << 20;
            s.ReceiveBufferSize = 4 << 20;
        }
        new Thread(() =>
        {
            var buffer = new byte[1 << 20];
            try { while (draining.Receive(buffer) > 0) { } }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }) { IsBackground = true }.Start();

        using var gathered = new FrameConnection(new SocketLink(sending, "bench"));
        var stream = new NetworkStream(sending, ownsSocket: false);
        var header = new byte[Frame.HeaderSize];
        var variants = new (string Name, Action<byte[]> Write)[]
        {
            ("before: header, then 64 KiB writes", p => Separate(stream, header, p, 64 << 10)),
            ("FrameConnection (gathered, 288 KiB)", p => gathered.Write(MessageType.Pages, p.AsMemory())),
            ("gathered, 64 KiB chunks", p => Gathered(sending, header, p, 64 << 10)),
        };
        Console.WriteLine($"frame writes over loopback TCP, {rounds} interleaved rounds, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        foreach (int size in new[] { 64, 4104, 266_240 })
        {
            var payload = new byte[size];
            Random.Shared.NextBytes(payload);
            int frames = size < 10_000 ? 20_000 : 400;
            var results = variants.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < rounds; round++)
            {
                for (int i = 0; i < variants.Length; i++)
                {
                    int v = (i + round) % variants.Length;
                    var watch = Stopwatch.StartNew();
                    for (int f = 0; f < frames; f++) variants[v].Write(payload);
                    results[v].Add(frames / watch.Elapsed.TotalSeconds);
                }
            }
            for (int v = 0; v < variants.Length; v++)
            {
                var sorted = results[v].Order().ToList();
                Console.WriteLine($"{size,8:N0} B  {variants[v].Name,-38} median {sorted[sorted.Count / 2],10:N0} frames/s " +
                                  $"(p25 {sorted[sorted.Count / 4]:N0}, p75 {sorted[3 * sorted.Count / 4]:N0})");
            }
        }
        Console.WriteLine($"load average at the end {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        return 0;
    }

    private static void Separate(Stream stream, byte[] header, byte[] payload, int chunk)
    {
        Frame.WriteHeader(header, MessageType.Pages, payload);
        stream.Write(header);
        for (int o = 0; o < payload.Length; o += chunk) stream.Write(payload, o, Math.Min(chunk, payload.Length - o));
    }

    private static void Gathered(Socket socket, byte[] header, byte[] payload, int chunk)
    {
        Frame.WriteHeader(header, MessageType.Pages, payload);
        int first = Math.Min(chunk, payload.Length);
        socket.Send([new ArraySegment<byte>(header), new ArraySegment<byte>(payload, 0, first)]);
        for (int o = first; o < payload.Length; o += chunk)
        {
            var rest = payload.AsSpan(o, Math.Min(chunk, payload.Length - o));
            while (!rest.IsEmpty) rest = rest[socket.Send(rest)..];
        }
    }
}
