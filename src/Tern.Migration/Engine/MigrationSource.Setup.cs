using Tern.Migration.Api;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine;

public sealed partial class MigrationSource
{
    private readonly BandwidthLimiter limiter;
    private readonly List<ChannelWriter> channels = [];
    private readonly Guid session = Guid.NewGuid();
    private MigrationUri? destinationUri;
    private FrameConnection? main;
    private Thread? returnPathThread;
    private ProtocolCapability negotiated;
    private int maxChannels = 1;
    private int channelsInUse = 1;
    private readonly TaskCompletionSource<ReadyMessage> ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<ResumedMessage> resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Connects, says Hello, and agrees on a version and capabilities.</summary>
    private void Setup(MigrationUri destination)
    {
        destinationUri = destination;
        main = TcpTransport.ConnectAsync(destination, ConnectTimeout, cancel.Token).GetAwaiter().GetResult();

        var parameters = settings.Parameters;
        // Offer everything this side can do, not just what is on now: the operator may switch a capability on later.
        var hello = new HelloMessage(ProtocolConstants.MinVersion, ProtocolConstants.MaxVersion, ProtocolCapabilities.Supported,
            session, parameters.MultifdChannels, machine.Description);
        var payload = new PayloadWriter();
        hello.Write(payload);
        main.Write(MessageType.Hello, payload);
        main.Flush();

        var (type, reply) = ReadWithTimeout(main, ReplyTimeout, "the destination's answer to Hello");
        if (type == MessageType.Error)
        {
            var error = ErrorMessage.Read(type, reply.Span);
            throw new RemoteMigrationException(error.Text);
        }
        if (type != MessageType.Welcome) throw ProtocolException.Unexpected(type, "waiting for Welcome");
        var welcome = WelcomeMessage.Read(reply.Span);
        if (welcome.Version is < ProtocolConstants.MinVersion or > ProtocolConstants.MaxVersion)
            throw new ProtocolException($"the destination chose protocol version {welcome.Version}, which this source does not speak ({ProtocolConstants.MinVersion}-{ProtocolConstants.MaxVersion})");
        if ((welcome.Accepted & ~ProtocolCapabilities.Supported) != 0)
            throw new ProtocolException($"the destination accepted capabilities that were not offered: {welcome.Accepted}");
        negotiated = welcome.Accepted;
        maxChannels = Math.Max(1, welcome.Channels);
        Log($"connected to {destination}: protocol {welcome.Version}, capabilities {ProtocolCapabilities.Describe(negotiated)}");

        lock (gate) channels.Add(new ChannelWriter(0, main, limiter, counters, cancel.Token, Fail));
        returnPathThread = new Thread(ReadReturnPath) { IsBackground = true, Name = "tern migration return path" };
        returnPathThread.Start();
    }

    /// <summary>The page channels wanted now: 1, or multifd-channels when multifd is on and negotiated.</summary>
    private int WantedChannels()
    {
        if (!settings.IsEnabled(MigrationCapability.Multifd) || (negotiated & ProtocolCapability.Multifd) == 0) return 1;
        return Math.Clamp(settings.Parameters.MultifdChannels, 1, maxChannels);
    }

    /// <summary>Opens extra page channels up to what is wanted (channels once opened stay until the end).</summary>
    private int EnsureChannels()
    {
        int wanted = WantedChannels();
        while (channels.Count < wanted)
        {
            int index = channels.Count;
            var connection = TcpTransport.ConnectAsync(destinationUri!, ConnectTimeout, cancel.Token).GetAwaiter().GetResult();
            var payload = new PayloadWriter();
            new ChannelHelloMessage(session, index).Write(payload);
            connection.Write(MessageType.ChannelHello, payload);
            connection.Flush();
            lock (gate) channels.Add(new ChannelWriter(index, connection, limiter, counters, cancel.Token, Fail));
            Log($"opened page channel {index}");
        }
        lock (gate) channelsInUse = wanted;
        return wanted;
    }

    /// <summary>Reads what the destination sends back: Ready, Resumed, or an Error at any time.</summary>
    private void ReadReturnPath()
    {
        try
        {
            while (true)
            {
                var (type, payload) = main!.Read();
                switch (type)
                {
                    case MessageType.Ready: ready.TrySetResult(ReadyMessage.Read(payload.Span)); break;
                    case MessageType.Resumed: resumed.TrySetResult(ResumedMessage.Read(payload.Span)); return;
                    case MessageType.Error:
                        var error = ErrorMessage.Read(type, payload.Span);
                        throw new RemoteMigrationException(error.Text);
                    default: throw ProtocolException.Unexpected(type, "reading the return path");
                }
            }
        }
        catch (Exception e)
        {
            // Kept even when another thread failed first: a destination that rejects the stream sends its Error and
            // hangs up, and a writer may see the broken connection before this reader sees the Error.
            if (e is RemoteMigrationException remote) Volatile.Write(ref destinationError, remote);
            var reason = cancel.IsCancellationRequested && failure is null ? new OperationCanceledException() : e;
            ready.TrySetException(reason);
            resumed.TrySetException(reason);
            if (!cancel.IsCancellationRequested) Fail(e);
        }
    }

    private RemoteMigrationException? destinationError;

    /// <summary>How long a failed migration waits for the destination's own account of why the link broke.</summary>
    private static readonly TimeSpan DestinationErrorGrace = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The cause to report for a failure: the destination's Error when it sent one, since "connection reset" only
    /// says that the link broke, not why. Waits briefly for the return path to read what is still in flight.
    /// </summary>
    private Exception CauseOf(Exception e)
    {
        if (e is RemoteMigrationException || failure is RemoteMigrationException) return failure ?? e;
        if (failure is not (null or IOException or EndOfStreamException) && e is not (IOException or EndOfStreamException)) return failure ?? e;
        returnPathThread?.Join(DestinationErrorGrace);
        return (Exception?)Volatile.Read(ref destinationError) ?? failure ?? e;
    }

    private (MessageType, ReadOnlyMemory<byte>) ReadWithTimeout(FrameConnection connection, TimeSpan timeout, string what)
    {
        var read = Task.Run(connection.Read);
        bool arrived;
        try
        {
            arrived = read.Wait(timeout, cancel.Token);
        }
        catch (OperationCanceledException)
        {
            connection.Dispose(); // unblocks the read
            throw;
        }
        if (!arrived)
        {
            connection.Dispose();
            throw new IOException($"no reply from {connection.Peer} within {timeout.TotalSeconds:0} s while waiting for {what}");
        }
        var (type, payload) = read.GetAwaiter().GetResult();
        return (type, payload.ToArray());
    }

    /// <summary>
    /// Tells the destination why the migration ends, on the main connection, once its writer thread has stopped (so
    /// the frame is not interleaved with a page batch). Skipped if the writer is stuck on a dead link.
    /// </summary>
    private void SendBestEffortError(ushort code, string text)
    {
        if (main is null || channels.Count == 0) return;
        try
        {
            if (!channels[0].Stop(TimeSpan.FromSeconds(2))) return;
            var payload = new PayloadWriter();
            new ErrorMessage(code, text).Write(payload);
            main.Write(MessageType.Error, payload);
            main.Flush();
        }
        catch
        {
            // The link may be what failed; the destination then notices the closed connection.
        }
    }

    private void OnSettingsChanged() => limiter.BytesPerSecond = settings.Parameters.MaxBandwidth;

    private int tornDown;

    private void Teardown()
    {
        if (Interlocked.Exchange(ref tornDown, 1) == 1) return;
        cancel.Cancel();
        foreach (var c in channels) c.Connection.Dispose();
        foreach (var c in channels) c.Dispose();
        main?.Dispose();
        returnPathThread?.Join(TimeSpan.FromSeconds(5));
        encoder?.Dispose();
    }
}
