using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Support;

/// <summary>
/// A TCP proxy between a migration source and its destination that injects one <see cref="LinkFault"/> into the
/// source-to-destination direction of the first (main) connection. That direction is forwarded frame by frame, so a
/// fault can be placed at a byte offset or at a message; the return path and any extra channel pass through as they
/// are. Test support: real sockets, real resets.
/// </summary>
internal sealed class FaultProxy : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly MigrationUri target;
    private readonly LinkFault fault;
    private readonly List<Socket> sockets = [];
    private readonly List<Thread> threads = [];
    private readonly ManualResetEventSlim fired = new(false);
    private int connections;
    private volatile bool disposed;
    private volatile bool hung;

    public FaultProxy(MigrationUri target, LinkFault fault)
    {
        this.target = target;
        this.fault = fault;
        listener.Start();
        Uri = new MigrationUri("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        Start(AcceptLoop, "fault proxy accept");
    }

    /// <summary>Where the source should connect.</summary>
    public MigrationUri Uri { get; }

    /// <summary>Whether the fault has been applied.</summary>
    public bool Fired => fired.IsSet;

    public bool WaitFired(TimeSpan timeout) => fired.Wait(timeout);

    private void AcceptLoop()
    {
        try
        {
            while (!disposed)
            {
                var fromSource = listener.AcceptSocket();
                var toDestination = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                toDestination.Connect(IPAddress.Loopback, target.Port);
                fromSource.NoDelay = true;
                lock (sockets) sockets.AddRange([fromSource, toDestination]);
                bool main = Interlocked.Increment(ref connections) == 1;
                var returned = new ManualResetEventSlim(false);
                Start(() =>
                {
                    Copy(toDestination, fromSource, main ? fault.ReturnPathDelay : TimeSpan.Zero);
                    returned.Set();
                }, "fault proxy return path");
                Start(main ? () => ForwardMain(fromSource, toDestination, returned) : () => Copy(fromSource, toDestination), "fault proxy forward");
            }
        }
        catch (Exception) when (disposed)
        {
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>Source to destination on the main connection: whole frames, with the fault applied on the way.</summary>
    private void ForwardMain(Socket source, Socket destination, ManualResetEventSlim returned)
    {
        long offset = 0;
        bool swallowing = false;
        bool sending = false;
        try
        {
            var header = new byte[Frame.HeaderSize];
            while (true)
            {
                int got = ReadFully(source, header);
                if (got < header.Length)
                {
                    if (!swallowing) SendAll(destination, header.AsSpan(0, got));
                    break;
                }
                uint length = Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)), (uint)Frame.MaxPayload);
                var frame = new byte[Frame.HeaderSize + length];
                header.CopyTo(frame, 0);
                got = Frame.HeaderSize + ReadFully(source, frame.AsSpan(Frame.HeaderSize));
                if (swallowing) continue;
                var type = (MessageType)BinaryPrimitives.ReadUInt16LittleEndian(header);
                var payload = frame.AsSpan(Frame.HeaderSize, got - Frame.HeaderSize);

                if (!Fired && fault.Frame is { } match && got == frame.Length && match(type, payload))
                {
                    fired.Set();
                    if (fault.What == LinkFault.Kind.DropAtFrame)
                    {
                        Reset(source, destination);
                        return;
                    }
                    if (fault.What == LinkFault.Kind.HangAtFrame) hung = true;
                    swallowing = true; // blackhole
                    continue;
                }
                if (!Fired && fault.Offset >= 0 && offset + got > fault.Offset)
                {
                    int at = (int)(fault.Offset - offset);
                    switch (fault.What)
                    {
                        case LinkFault.Kind.CorruptByteAt:
                            frame[at] ^= 0x04;
                            fired.Set();
                            break;
                        case LinkFault.Kind.DropAfterBytes:
                            SendAll(destination, frame.AsSpan(0, at));
                            fired.Set();
                            Reset(source, destination);
                            return;
                        case LinkFault.Kind.TruncateAfterBytes:
                            SendAll(destination, frame.AsSpan(0, at));
                            destination.Shutdown(SocketShutdown.Send);
                            fired.Set();
                            swallowing = true;
                            continue;
                    }
                }
                sending = true;
                SendAll(destination, frame.AsSpan(0, got));
                sending = false;
                offset += got;
                if (got < frame.Length) break;
            }
            if (!swallowing) destination.Shutdown(SocketShutdown.Send);
            else if (!hung) CloseBoth(source, destination); // the source is gone: nothing more will come (a hung link says nothing)
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The destination hung up (it sends its Error first, then closes). A real link delivers what the
            // destination sent before its reset: let the return path forward all of it before the source's side is
            // closed, or the proxy would lose the Error that the source must report.
            if (hung) return; // nothing crosses a hung link, a reset neither
            if (sending) returned.Wait(TimeSpan.FromSeconds(10));
            CloseBoth(source, destination);
        }
    }

    /// <summary>A plain copy (the return path and extra channels); the end of one side is passed on to the other.</summary>
    private void Copy(Socket from, Socket to, TimeSpan delay = default)
    {
        var buffer = new byte[64 << 10];
        try
        {
            while (true)
            {
                int n = from.Receive(buffer);
                // A hung link loses what is sent on it, and the end of a connection too: nothing more arrives.
                if (hung)
                {
                    if (n == 0) return;
                    continue;
                }
                // A delay line: each chunk (and the end) goes on its way this much after it arrived. The return path
                // carries a few small frames, so delaying them one after another is the same as a latency.
                if (delay > TimeSpan.Zero) Thread.Sleep(delay);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                SendAll(to, buffer.AsSpan(0, n));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            if (hung) return; // nothing crosses a hung link, a reset neither
            if (delay > TimeSpan.Zero) Thread.Sleep(delay); // the reset travels the same link
            CloseBoth(from, to);
        }
    }

    private static int ReadFully(Socket socket, Span<byte> buffer)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = socket.Receive(buffer[done..]);
            if (n == 0) break;
            done += n;
        }
        return done;
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty) data = data[socket.Send(data)..];
    }

    /// <summary>Closes both sockets with a reset, as a dropped link or a killed peer looks.</summary>
    private static void Reset(Socket a, Socket b)
    {
        foreach (var s in new[] { a, b })
        {
            try
            {
                s.LingerState = new LingerOption(true, 0);
                s.Close();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private static void CloseBoth(Socket a, Socket b)
    {
        a.Dispose();
        b.Dispose();
    }

    private void Start(Action body, string name)
    {
        var t = new Thread(() => body()) { IsBackground = true, Name = name };
        lock (threads) threads.Add(t);
        t.Start();
    }

    public void Dispose()
    {
        disposed = true;
        listener.Stop();
        lock (sockets) foreach (var s in sockets) s.Dispose();
        lock (threads) foreach (var t in threads) t.Join(TimeSpan.FromSeconds(5));
        fired.Dispose();
    }
}
