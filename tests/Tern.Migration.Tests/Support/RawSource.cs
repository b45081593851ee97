using System.Net.Sockets;
using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Support;

/// <summary>
/// A real <see cref="MigrationDestination"/> on loopback and a hand-driven "source" socket, for feeding the destination
/// exactly the bytes a test wants (hostile, truncated, out of order) and reading what it answers. Every read has a
/// timeout, so a destination that hangs fails the test instead of stalling it.
/// </summary>
internal sealed class RawSource : IDisposable
{
    public const ulong GuestBytes = RawPeer.GuestBytes;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly IMigrationListener listener;
    private readonly RawPeer main;
    private readonly List<RawPeer> others = [];
    private readonly List<SimMachine> built = [];
    private readonly List<TcpClient> channels = [];
    private readonly List<MigrationLog> log = [];
    private Guid session;

    /// <param name="memoryLimit">Shorthand for a <paramref name="limits"/> with only <see cref="DestinationLimits.MemoryBytes"/>.</param>
    public RawSource(ulong? memoryLimit = null, DestinationLimits? limits = null)
    {
        listener = MigrationUri.Parse("tcp:127.0.0.1:0").CreateTransport().Listen();
        limits ??= new DestinationLimits();
        if (memoryLimit is not null) limits = limits with { MemoryBytes = memoryLimit };
        Destination = new MigrationDestination(listener, d =>
        {
            // As `tern run --incoming --backend sim` builds it, with the same checks of what the Hello describes.
            var m = (SimMachine)MachineBuilder.CreateIncoming(d, new MachineHostOptions { Backend = MachineBackend.Sim });
            lock (built) built.Add(m);
            return m;
        }, limits);
        Destination.Event += e => { if (e is MigrationLog l) lock (log) log.Add(l); };
        Run = Destination.RunAsync();
        Port = MigrationUri.Parse(listener.Address).Port;
        main = new RawPeer(Port, Patience);
    }

    public int Port { get; }

    /// <summary>The lines the destination logged so far.</summary>
    public IReadOnlyList<string> Log { get { lock (log) return log.Select(l => l.Text).ToList(); } }

    public MigrationDestination Destination { get; }
    public Task Run { get; }
    public NetworkStream Stream => main.Stream;
    public FrameConnection Connection => main.Connection;

    /// <summary>Another connection to the same destination (a second source, a page channel, a stranger).</summary>
    public RawPeer Reconnect()
    {
        var peer = new RawPeer(Port, Patience);
        lock (others) others.Add(peer);
        return peer;
    }

    /// <summary>The machine the destination built for the Hello, if it built one.</summary>
    public SimMachine? Machine { get { lock (built) return built.FirstOrDefault(); } }
    public int MachinesBuilt { get { lock (built) return built.Count; } }

    public static HelloMessage Hello(ulong memory = GuestBytes, ProtocolCapability offered = ProtocolCapabilities.Supported,
        ushort minVersion = ProtocolConstants.MinVersion, ushort maxVersion = ProtocolConstants.MaxVersion,
        int channels = 1, int vcpus = 1, string backend = MachineDescription.SimBackend, string workload = "idle") =>
        new(minVersion, maxVersion, offered, Guid.NewGuid(), channels, new MachineDescription(backend, memory, vcpus, workload));

    /// <summary>The device state of an idle simulated guest like the one <see cref="Hello"/> describes by default (for DeviceState).</summary>
    public static byte[] DeviceState()
    {
        using var m = SimMachine.Create(new SimMachineOptions(GuestBytes, 1, WorkloadSpec.Parse("idle")));
        return m.SaveState();
    }

    public void Send(MessageType type, Action<PayloadWriter> write) => main.Send(type, write);

    /// <summary>Says Hello and returns the Welcome.</summary>
    public WelcomeMessage Handshake(HelloMessage? hello = null, ProtocolCapability? offered = null)
    {
        hello ??= Hello(offered: offered ?? ProtocolCapabilities.Supported);
        session = hello.Session;
        return main.Handshake(hello);
    }

    public void PassBegin(uint pass, bool final = false, int channels = 1) => Send(MessageType.PassBegin, new PassBeginMessage(pass, channels, final).Write);

    /// <summary>Opens extra page channel <paramref name="index"/> of the session <see cref="Handshake"/> began (multifd).</summary>
    public FrameConnection OpenChannel(int index)
    {
        var c = new TcpClient("127.0.0.1", Port) { NoDelay = true, ReceiveTimeout = (int)Patience.TotalMilliseconds };
        lock (channels) channels.Add(c);
        var connection = new FrameConnection(c.GetStream(), $"test channel {index}");
        var payload = new PayloadWriter();
        new ChannelHelloMessage(session, index).Write(payload);
        connection.Write(MessageType.ChannelHello, payload);
        connection.Flush();
        return connection;
    }

    /// <summary>
    /// After <see cref="Handshake"/>: an empty migration up to the destination's Ready (one final pass without pages,
    /// the device state of an idle guest like the one the Hello describes, Complete). Returns the Ready.
    /// </summary>
    /// <param name="channels">Page channels already connected (channel 1, 2, ...): the pass uses them too.</param>
    public ReadyMessage DriveToReady(params RawPeer[] channels)
    {
        var ready = main.DriveToReady(GuestBytes, channels);
        // Ready goes out just before the state changes.
        Assert.True(SpinWait.SpinUntil(() => Destination.State == DestinationState.AwaitingCommit, Patience), $"{Destination.State}");
        return ready;
    }

    /// <summary>A Pages frame with the given records already encoded (header words and bodies).</summary>
    public void Pages(uint pass, uint records, Action<PayloadWriter> body) => Send(MessageType.Pages, w =>
    {
        w.U32(pass);
        w.U32(records);
        body(w);
    });

    /// <summary>
    /// Waits for the destination to give up: reads its Error (it must send one when the link still works), then
    /// checks that it finished, failed and discarded its copy. Returns the Error's text.
    /// </summary>
    public ErrorMessage ExpectRejection(ushort? code = null)
    {
        ErrorMessage? error = null;
        try
        {
            while (error is null)
            {
                var (type, payload) = Connection.Read();
                if (type == MessageType.Error) error = ErrorMessage.Read(type, payload.Span);
            }
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            Assert.Fail($"the destination did not answer within {Patience.TotalSeconds} s (it hangs); its status: {Destination.Status}");
        }
        Assert.True(Run.Wait(Patience), "the destination did not finish after rejecting the stream");
        Assert.Equal(MigrationStatus.Failed, Destination.Status);
        Assert.Equal(DestinationState.Discarded, Destination.State);
        Assert.Null(Destination.Machine);
        if (code is { } c) Assert.Equal(c, error.Code);
        Assert.Contains(error.Text, Destination.Info().ErrorDesc);
        return error;
    }

    /// <summary>Waits for the destination's migration to end (fails the test after the patience).</summary>
    public void WaitFinished() => Assert.True(Run.Wait(Patience), $"the destination did not finish within {Patience.TotalSeconds} s; its status: {Destination.Status}");

    public void Dispose()
    {
        main.Dispose();
        lock (others) foreach (var p in others) p.Dispose();
        lock (channels) foreach (var c in channels) c.Dispose();
        Destination.Dispose();
        Run.Wait(Patience);
        listener.Dispose();
        lock (built) foreach (var m in built) m.Dispose();
    }
}
