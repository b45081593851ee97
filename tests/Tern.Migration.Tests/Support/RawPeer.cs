using System.Net.Sockets;
using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Support;

/// <summary>One hand-driven connection to a destination: send exactly what a test wants, read what comes back.</summary>
internal sealed class RawPeer : IDisposable
{
    /// <summary>The guest RAM the default Hello describes.</summary>
    public const ulong GuestBytes = 16 << 20;

    private readonly TcpClient client;

    public RawPeer(int port, TimeSpan patience)
    {
        client = new TcpClient("127.0.0.1", port) { NoDelay = true, ReceiveTimeout = (int)patience.TotalMilliseconds };
        Stream = client.GetStream();
        Connection = new FrameConnection(Stream, "test destination");
    }

    public NetworkStream Stream { get; }
    public FrameConnection Connection { get; }

    public void Send(MessageType type, Action<PayloadWriter> write)
    {
        var payload = new PayloadWriter();
        write(payload);
        Connection.Write(type, payload);
        Connection.Flush();
    }

    /// <summary>Says Hello and returns the Welcome.</summary>
    public WelcomeMessage Handshake(HelloMessage? hello = null, ProtocolCapability? offered = null)
    {
        Send(MessageType.Hello, (hello ?? Hello(offered: offered ?? ProtocolCapabilities.Supported)).Write);
        var (type, payload) = Connection.Read();
        Assert.True(type == MessageType.Welcome, type == MessageType.Error ? ErrorMessage.Read(type, payload.Span).Text : type.ToString());
        return WelcomeMessage.Read(payload.Span);
    }

    /// <summary>A Hello for a simulated idle guest of <paramref name="memory"/> bytes and one vCPU.</summary>
    public static HelloMessage Hello(ulong memory = GuestBytes, ProtocolCapability offered = ProtocolCapabilities.Supported,
        ushort minVersion = ProtocolConstants.MinVersion, ushort maxVersion = ProtocolConstants.MaxVersion) =>
        new(minVersion, maxVersion, offered, Guid.NewGuid(), 1, new MachineDescription(MachineDescription.SimBackend, memory, 1, "idle"));

    /// <summary>
    /// After <see cref="Handshake"/> with <see cref="Hello"/>: an empty migration up to the destination's Ready (one
    /// final pass without pages, the device state of an idle guest like the one the Hello describes, Complete).
    /// </summary>
    /// <param name="channels">Page channels already connected (channel 1, 2, ...): the pass uses them too.</param>
    public ReadyMessage DriveToReady(ulong memory = GuestBytes, params RawPeer[] channels)
    {
        Send(MessageType.PassBegin, new PassBeginMessage(1, 1 + channels.Length, true).Write);
        Send(MessageType.PassEnd, new PassEndMessage(1, 0).Write);
        foreach (var c in channels) c.Send(MessageType.PassEnd, new PassEndMessage(1, 0).Write);
        using (var twin = SimMachine.Create(new SimMachineOptions(memory, 1, WorkloadSpec.Parse("idle"))))
        {
            var state = twin.SaveState();
            Send(MessageType.DeviceState, w => w.Bytes(state));
        }
        ulong token = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        Send(MessageType.Complete, new CompleteMessage(0, false, 0, token).Write);
        var (type, payload) = Connection.Read();
        Assert.True(type == MessageType.Ready, type == MessageType.Error ? ErrorMessage.Read(type, payload.Span).Text : type.ToString());
        var ready = ReadyMessage.Read(payload.Span);
        Assert.Equal(token, ready.Token); // the destination's proof that it read this Complete
        return ready;
    }

    /// <summary>Reads frames until an Error arrives and returns its text (fails the test after the patience).</summary>
    public string ReadError()
    {
        while (true)
        {
            var (type, payload) = Connection.Read();
            if (type == MessageType.Error) return ErrorMessage.Read(type, payload.Span).Text;
        }
    }

    public void Dispose()
    {
        Connection.Dispose();
        client.Dispose();
    }
}
