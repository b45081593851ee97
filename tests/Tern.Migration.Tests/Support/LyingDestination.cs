using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Support;

/// <summary>Where in the protocol a <see cref="LyingDestination"/> lies.</summary>
public enum LieStep
{
    /// <summary>On reading Hello (instead of, or together with, Welcome).</summary>
    Hello,
    /// <summary>On reading the first Pages frame of pass 1.</summary>
    FirstPass,
    /// <summary>On reading the final pass's PassBegin (the guest is paused on the source from here on).</summary>
    FinalPass,
    /// <summary>On reading DeviceState (the guest's state; Complete follows at once).</summary>
    DeviceState,
    /// <summary>On reading Complete (where an honest destination answers Ready).</summary>
    Complete,
}

/// <summary>What a <see cref="LyingDestination"/> does at its <see cref="LieStep"/>.</summary>
public enum Lie
{
    /// <summary>Sends Ready (at Complete: the honest answer; elsewhere a claim to hold what it was not sent).</summary>
    Ready,
    /// <summary>Sends Resumed, which is due only after Commit.</summary>
    Resumed,
    /// <summary>Sends Ready and Resumed in one write (at Hello: with the Welcome).</summary>
    ReadyAndResumed,
    /// <summary>Sends two Readys in one write.</summary>
    ReadyTwice,
    /// <summary>Stops reading and holds the connection open (a hung or overloaded destination).</summary>
    StopReading,
    /// <summary>Keeps reading everything but never answers again.</summary>
    Silence,
    /// <summary>Sends Ready, then stops reading (at Complete: the honest Ready, then a hang).</summary>
    ReadyThenStopReading,
    /// <summary>
    /// Sends Ready once the source's next frame has arrived, without reading it: at DeviceState a Ready that crosses
    /// Complete (it reaches the source after Complete went out, but the destination never read Complete). Then silent,
    /// as <see cref="Silence"/>: its one Ready must stand on its own.
    /// </summary>
    ReadyCrossingNextFrame,
    /// <summary>Closes the connection.</summary>
    HangUp,
    /// <summary>Sends an Error whose text carries terminal escapes, control characters and 3000 characters more.</summary>
    HostileError,
}

/// <summary>
/// A destination that speaks the protocol honestly except at one step, where it lies or hangs: for checking that
/// the source never gives up its VM to a peer that did not earn it, and never keeps its guest paused past the
/// downtime limit plus the margin. It accepts no capabilities (one connection, no verification) and keeps nothing it
/// reads. Test support: a real listening socket on loopback.
/// </summary>
internal sealed class LyingDestination : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly LieStep? at;
    private readonly int? atFrame;
    private readonly Lie lie;
    private readonly Thread thread;
    private readonly ManualResetEventSlim stopped = new(false);
    private readonly ManualResetEventSlim released = new(false);
    private readonly List<MessageType> received = [];
    private readonly List<(MessageType[] Frames, bool AfterComplete)> replies = [];
    private Socket? socket;
    private volatile string? sourceError;
    private volatile bool lied;

    public LyingDestination(LieStep at, Lie lie) : this(lie, at, null)
    {
    }

    /// <summary>Lies at the <paramref name="frame"/>-th frame it reads (1: the Hello), whatever that frame is.</summary>
    public LyingDestination(Lie lie, int frame) : this(lie, null, frame)
    {
    }

    private LyingDestination(Lie lie, LieStep? at, int? atFrame)
    {
        this.at = at;
        this.atFrame = atFrame;
        this.lie = lie;
        listener.Start();
        Uri = new MigrationUri("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        thread = new Thread(Serve) { IsBackground = true, Name = $"lying destination ({this})" };
        thread.Start();
    }

    public MigrationUri Uri { get; }

    /// <summary>Whether the source got as far as the step where this destination lies.</summary>
    public bool Lied => lied;

    /// <summary>The text of the Error the source sent, if one arrived while this side still read.</summary>
    public string? SourceError => sourceError;

    public IReadOnlyList<MessageType> Received { get { lock (received) return received.ToList(); } }

    public bool GotCommit { get { lock (received) return received.Contains(MessageType.Commit); } }

    /// <summary>
    /// Honest but slow after Commit: waits this long before Resumed and says so in it (as a real destination holds
    /// Resumed back until the guest's first heartbeat, with the guest running). Zero: Resumed at once.
    /// </summary>
    public TimeSpan ResumedHeldBack { get; init; }

    public override string ToString() => atFrame is { } n ? $"{lie} at frame {n}" : $"{lie} at {at}";

    private void Serve()
    {
        try
        {
            socket = listener.AcceptSocket();
            socket.NoDelay = true;
            using var connection = new FrameConnection(new NetworkStream(socket, ownsSocket: false), "source");
            var (type, _) = connection.Read();
            Record(type);
            if (type != MessageType.Hello) return;
            var welcome = Frames((MessageType.Welcome, w => new WelcomeMessage(ProtocolConstants.MaxVersion, 0, 1).Write(w)));
            if (at == LieStep.Hello || atFrame == 1)
            {
                lied = true;
                if (lie == Lie.HangUp)
                {
                    socket.Close();
                    return;
                }
                if (lie == Lie.HostileError) Reply(LieFrames());
                else if (lie is not (Lie.StopReading or Lie.Silence)) Reply(LieFrames(), welcome);
                if (!KeepReadingAfterLie()) return;
            }
            else socket.Send(welcome);

            bool passOneSeen = false;
            int frames = 1;
            while (true)
            {
                (type, var payload) = connection.Read();
                Record(type);
                frames++;
                var step = StepOf(type, payload.Span, ref passOneSeen);
                if (type == MessageType.Error) sourceError = ErrorMessage.Read(type, payload.Span).Text;
                bool due = atFrame is { } n ? frames == n : step == at;
                if (due && !lied)
                {
                    lied = true;
                    if (lie == Lie.HangUp)
                    {
                        socket.Close();
                        return;
                    }
                    // Bounded: after the last frame the source sends, nothing more comes.
                    if (lie == Lie.ReadyCrossingNextFrame) SpinWait.SpinUntil(() => connection.HasUnreadBytes, TimeSpan.FromSeconds(2));
                    Reply(LieFrames(type == MessageType.Complete ? CompleteMessage.Read(payload.Span).Token : 0));
                    if (!KeepReadingAfterLie()) return;
                    continue;
                }
                if (lied && lie is Lie.Silence or Lie.ReadyCrossingNextFrame) continue;
                // Honest otherwise.
                if (type == MessageType.Complete) Reply([HonestReady(CompleteMessage.Read(payload.Span).Token)]);
                else if (type == MessageType.Commit && ResumedHeldBack > TimeSpan.Zero)
                {
                    Thread.Sleep(ResumedHeldBack);
                    long heldNs = ResumedHeldBack.Ticks * 100;
                    Reply([(MessageType.Resumed, w => new ResumedMessage(HeartbeatNow(), 0, heldNs).Write(w))]);
                }
                else if (type == MessageType.Commit) Reply([ResumedFrame]);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or ProtocolException)
        {
            // The source hung up (as it must after a failure) or the test ended.
        }
        finally
        {
            stopped.Set();
        }
    }

    /// <summary>False when the lie is to stop reading: then holds the connection open, unread, until the test ends.</summary>
    private bool KeepReadingAfterLie()
    {
        if (lie is not (Lie.StopReading or Lie.ReadyThenStopReading)) return true;
        released.Wait();
        return false;
    }

    /// <summary>
    /// The frames of the lie. A Ready is as good as this peer can make it: where it lies at Complete it has read
    /// Complete and echoes its token (then the Ready is honest); anywhere else it has no token to echo.
    /// </summary>
    private (MessageType, Action<PayloadWriter>)[] LieFrames(ulong token = 0)
    {
        var ready = HonestReady(token);
        return lie switch
        {
            Lie.Ready or Lie.ReadyThenStopReading or Lie.ReadyCrossingNextFrame => [ready],
            Lie.Resumed => [ResumedFrame],
            Lie.ReadyAndResumed => [ready, ResumedFrame],
            Lie.ReadyTwice => [ready, ready],
            Lie.HostileError => [(MessageType.Error, w => new ErrorMessage(ErrorMessage.Failed, HostileText).Write(w))],
            _ => [],
        };
    }

    /// <summary>Sends frames in one write (after <paramref name="first"/>, the Welcome) and notes what was sent when.</summary>
    private void Reply((MessageType Type, Action<PayloadWriter> Write)[] frames, byte[]? first = null)
    {
        if (frames.Length == 0 && first is null) return;
        lock (received) replies.Add((frames.Select(f => f.Type).ToArray(), received.Contains(MessageType.Complete)));
        socket!.Send([.. first ?? [], .. Frames(frames)]);
    }

    /// <summary>
    /// Whether this peer earned the commit: its first reply after Welcome was one Ready and nothing else, sent after
    /// it read Complete. A source may commit only to such a peer; whatever the peer does after that Ready (hang, lie)
    /// can only leave the hand-over uncertain, never run the guest in two places.
    /// </summary>
    public bool EarnedCommit
    {
        get
        {
            lock (received) return replies.Count > 0 && replies[0].Frames is [MessageType.Ready] && replies[0].AfterComplete;
        }
    }

    /// <summary>What <see cref="Lie.HostileError"/> says: colour, a cursor move, a title change, a bell, a bidi override, a fake new line.</summary>
    public static readonly string HostileText =
        "\u001b[31mdisk on fire\u001b[0m\u001b[2J\u001b]0;owned\u0007\r\nsource: migration completed\u202e" + new string('x', 3000);

    /// <summary>A Ready that echoes <paramref name="token"/> (Complete's, when this peer has read it).</summary>
    private static (MessageType, Action<PayloadWriter>) HonestReady(ulong token) =>
        (MessageType.Ready, w => new ReadyMessage(false, 0, 0, token).Write(w));

    private static readonly (MessageType, Action<PayloadWriter>) ResumedFrame =
        (MessageType.Resumed, w => new ResumedMessage(HeartbeatNow(), 0).Write(w));

    private static long HeartbeatNow() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>Frames laid end to end, to go out in one write (so the source finds them together).</summary>
    private static byte[] Frames(params (MessageType Type, Action<PayloadWriter> Write)[] frames)
    {
        var bytes = new MemoryStream();
        var writer = new FrameConnection(bytes, "buffer");
        foreach (var (type, write) in frames)
        {
            var payload = new PayloadWriter();
            write(payload);
            writer.Write(type, payload);
        }
        return bytes.ToArray();
    }

    private static LieStep? StepOf(MessageType type, ReadOnlySpan<byte> payload, ref bool passOneSeen)
    {
        switch (type)
        {
            case MessageType.Pages when !passOneSeen && BinaryPrimitives.ReadUInt32LittleEndian(payload) == 1:
                passOneSeen = true;
                return LieStep.FirstPass;
            case MessageType.PassBegin when payload[6] != 0:
                return LieStep.FinalPass;
            case MessageType.DeviceState:
                return LieStep.DeviceState;
            case MessageType.Complete:
                return LieStep.Complete;
            default:
                return null;
        }
    }

    private void Record(MessageType type)
    {
        lock (received) received.Add(type);
    }

    public void Dispose()
    {
        released.Set();
        listener.Stop();
        socket?.Dispose();
        stopped.Wait(TimeSpan.FromSeconds(10));
        thread.Join(TimeSpan.FromSeconds(5));
        released.Dispose();
        stopped.Dispose();
    }
}
