using System.Diagnostics;
using System.Net.Sockets;

namespace Tern.Bench.Macro;

/// <summary>
/// The guest's heartbeats under QEMU, as the host sees them: QEMU's <c>isa-debugcon</c> on the heartbeat port writes
/// each byte the guest sends there (one about every millisecond) to a unix socket chardev that connects here, and a
/// thread timestamps each arrival. The gap between the source's last beat and the destination's first is the stop
/// the guest observed across a migration, the same measure as Tern's <c>x-guest-downtime</c> (the last beat the
/// source machine saw before its pause to the first the destination machine saw after resuming).
/// </summary>
public sealed class QemuHeartbeatListener : IDisposable
{
    private readonly Socket listener;
    private readonly Thread reader;
    private readonly string dir;
    private Socket? connection;
    private long firstBeat, lastBeat, beats;

    public QemuHeartbeatListener()
    {
        dir = Directory.CreateTempSubdirectory("tern-bench-hb-").FullName;
        SocketPath = Path.Combine(dir, "heartbeat");
        listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        listener.Listen(1);
        reader = new Thread(Read) { IsBackground = true, Name = "qemu heartbeats" };
        reader.Start();
    }

    /// <summary>Where QEMU's chardev connects (<c>-chardev socket,path=...,server=off</c>).</summary>
    public string SocketPath { get; }

    /// <summary>Heartbeats received so far.</summary>
    public long Beats => Interlocked.Read(ref beats);

    /// <summary>Stopwatch timestamp of the first heartbeat received, or 0.</summary>
    public long FirstBeat => Interlocked.Read(ref firstBeat);

    /// <summary>Stopwatch timestamp of the latest heartbeat received, or 0.</summary>
    public long LastBeat => Interlocked.Read(ref lastBeat);

    private void Read()
    {
        try
        {
            var socket = listener.Accept();
            connection = socket;
            var buffer = new byte[4096];
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                long now = Stopwatch.GetTimestamp();
                Interlocked.CompareExchange(ref firstBeat, now, 0);
                Interlocked.Exchange(ref lastBeat, now);
                Interlocked.Add(ref beats, n);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Disposed, or QEMU went away: the beats received so far stand.
        }
    }

    public void Dispose()
    {
        connection?.Dispose();
        listener.Dispose();
        reader.Join(TimeSpan.FromSeconds(2));
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
    }
}
