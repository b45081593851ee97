using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Bench.Transport;

/// <summary>
/// Frames per second written over loopback TCP (no Nagle, 4 MiB buffers, a thread draining the other end), the frame
/// layer as it was (a write for the header, then the payload in 64 KiB writes) against one gathered send per frame
/// (<see cref="SocketLink"/>), in the same run. Payloads: a control message, one page record, a full page batch.
/// Run: <c>dotnet run -c Release --project bench/Tern.Bench -- --filter '*FrameWriteBenchmarks*' --job short --inProcess</c>.
/// </summary>
[MemoryDiagnoser]
public class FrameWriteBenchmarks
{
    private const int FramesPerInvoke = 256;

    [Params(64, 4104, 266_240)]
    public int PayloadBytes { get; set; }

    private Socket listener = null!;
    private Socket sending = null!;
    private Socket draining = null!;
    private Thread drain = null!;
    private FrameConnection gathered = null!;
    private LegacyFrameWriter separate = null!;
    private byte[] payload = null!;

    [GlobalSetup]
    public void Setup()
    {
        listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        sending = new Socket(SocketType.Stream, ProtocolType.Tcp);
        sending.Connect(listener.LocalEndPoint!);
        draining = listener.Accept();
        foreach (var s in new[] { sending, draining })
        {
            s.NoDelay = true;
            s.SendBufferSize = 4 << 20;
            s.ReceiveBufferSize = 4 << 20;
        }
        drain = new Thread(() =>
        {
            var buffer = new byte[1 << 20];
            try
            {
                while (draining.Receive(buffer) > 0) { }
            }
            catch (SocketException) { }
            catch (ObjectDisposedException) { }
        }) { IsBackground = true };
        drain.Start();
        // Both writers share the one connection, never at once: the benchmark runs one method at a time.
        gathered = new FrameConnection(new SocketLink(sending, "bench"));
        separate = new LegacyFrameWriter(new NetworkStream(sending, ownsSocket: false));
        payload = new byte[PayloadBytes];
        Random.Shared.NextBytes(payload);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = FramesPerInvoke, Description = "header, then payload (before)")]
    public void SeparateWrites()
    {
        for (int i = 0; i < FramesPerInvoke; i++) separate.Write(MessageType.Pages, payload);
    }

    [Benchmark(OperationsPerInvoke = FramesPerInvoke, Description = "one gathered send (after)")]
    public void GatheredSend()
    {
        for (int i = 0; i < FramesPerInvoke; i++) gathered.Write(MessageType.Pages, payload.AsMemory());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        gathered.Dispose();
        draining.Dispose();
        listener.Dispose();
        drain.Join();
    }

    /// <summary>The frame write as FrameConnection did it before the gathered send: same header, same CRC.</summary>
    private sealed class LegacyFrameWriter(Stream stream)
    {
        private readonly byte[] header = new byte[Frame.HeaderSize];

        public void Write(MessageType type, ReadOnlySpan<byte> payload)
        {
            Frame.WriteHeader(header, type, payload);
            stream.Write(header);
            while (!payload.IsEmpty)
            {
                var chunk = payload[..Math.Min(64 << 10, payload.Length)];
                stream.Write(chunk);
                payload = payload[chunk.Length..];
            }
        }
    }
}
