using System.Diagnostics;
using Tern.Migration.Api;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine.Source;

internal sealed partial class SourceSession
{
    private readonly BandwidthLimiter limiter;
    private readonly List<ChannelWriter> channels = [];
    private readonly Guid session = Guid.NewGuid();
    private IMigrationTransport? destinationUri;
    private FrameConnection? main;
    private Thread? returnPathThread;
    private WriteStallWatchdog? stallWatchdog;
    /// <summary>What the destination may send now; guarded by <see cref="commitGate"/>.</summary>
    private readonly HandOverState handOver = new();
    private ProtocolCapability negotiated;
    private int maxChannels = 1;
    private int channelsInUse = 1;
    private readonly TaskCompletionSource<ReadyMessage> ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<ResumedMessage> resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Connects, says Hello, and agrees on a version and capabilities.</summary>
    internal void Setup(IMigrationTransport destination)
    {
        destinationUri = destination;
        main = new FrameConnection(destination.ConnectAsync(ConnectTimeout, cancel.Token).GetAwaiter().GetResult());
        stallWatchdog = new WriteStallWatchdog(WriteStallLimit, WatchedConnections, Fail);

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
            throw new RemoteMigrationException(RemoteText.Sanitize(error.Text));
        }
        if (type != MessageType.Welcome) throw ProtocolException.Unexpected(type, "waiting for Welcome");
        var welcome = WelcomeMessage.Read(reply.Span);
        if (welcome.Version is < ProtocolConstants.MinVersion or > ProtocolConstants.MaxVersion)
            throw new ProtocolException($"the destination chose protocol version {welcome.Version}, which this source does not speak ({ProtocolConstants.MinVersion}-{ProtocolConstants.MaxVersion})");
        if ((welcome.Accepted & ~ProtocolCapabilities.Supported) != 0)
            throw new ProtocolException($"the destination accepted capabilities that were not offered: {welcome.Accepted}");
        negotiated = welcome.Accepted;
        Volatile.Write(ref welcomed, true);
        maxChannels = Math.Max(1, welcome.Channels);
        Log($"connected to {destination}: protocol {welcome.Version}, capabilities {ProtocolCapabilities.Describe(negotiated)}");

        lock (gate) channels.Add(new ChannelWriter(0, main, limiter, counters, cancel.Token, Fail));
        returnPathBytesJudged = main.BytesRead; // Welcome was read here; the return path judges what comes after it
        returnPathThread = new Thread(ReadReturnPath) { IsBackground = true, Name = "tern migration return path" };
        returnPathThread.Start();
    }

    /// <summary>Channel 0, the main connection's writer.</summary>
    internal ChannelWriter MainChannel => channels[0];

    /// <summary>Waits until every channel has handed all it was given to the kernel.</summary>
    internal void WaitUntilAllSent()
    {
        foreach (var c in channels) c.WaitUntilSent();
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
            var connection = new FrameConnection(destinationUri!.ConnectAsync(ConnectTimeout, cancel.Token).GetAwaiter().GetResult());
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

    /// <summary>The connections whose writes the stall watchdog watches: the main connection from the start, then each channel.</summary>
    private IReadOnlyList<(int Channel, FrameConnection Connection)> WatchedConnections()
    {
        lock (gate)
        {
            if (channels.Count == 0) return main is null ? [] : [(0, main)];
            return channels.Select(c => (c.Index, c.Connection)).ToList();
        }
    }

    /// <summary>
    /// Reads what the destination sends back and judges each message against the hand-over phase
    /// (<see cref="HandOverState"/>): Ready only after Complete, once, with Complete's token; Resumed only after Commit;
    /// Error at any time.
    /// A message out of place fails the migration under the commit lock, so it can never race the commit.
    /// </summary>
    private void ReadReturnPath()
    {
        try
        {
            while (true)
            {
                var (type, payload) = main!.Read();
                if (type == MessageType.Error)
                {
                    var error = ErrorMessage.Read(type, payload.Span);
                    throw new RemoteMigrationException(RemoteText.Sanitize(error.Text));
                }
                var readyMessage = type == MessageType.Ready ? ReadyMessage.Read(payload.Span) : null;
                var resumedMessage = type == MessageType.Resumed ? ResumedMessage.Read(payload.Span) : null;
                var doneMessage = type == MessageType.PostcopyDone ? PostcopyDoneMessage.Read(payload.Span) : null;
                ulong? droppedAhead = type == MessageType.PostcopyDiscarded ? PostcopyDiscardedMessage.Read(payload.Span) : null;
                uint? applied = type == MessageType.PassApplied ? PassAppliedMessage.Read(payload.Span) : null;
                ProtocolException? violation;
                lock (commitGate)
                {
                    violation = handOver.Receive(type, readyMessage?.Token ?? 0);
                    if (violation is null && applied is { } pass) violation = AppliedPasses.Record(pass, Pass);
                    if (violation is not null) Fail(violation);
                }
                if (violation is not null) throw violation;
                Interlocked.Exchange(ref returnPathBytesJudged, main.BytesRead);
                if (readyMessage is not null)
                {
                    // An honest destination sends nothing between Ready and Commit. Whatever arrived right behind the
                    // Ready (a second Ready, a Resumed, an Error) is judged first, so that it stops the commit instead
                    // of racing it; the source commits only on a Ready with nothing after it.
                    if (!main.HasUnreadBytes) ready.TrySetResult(readyMessage);
                }
                else if (resumedMessage is not null)
                {
                    Volatile.Write(ref resumedArrivedAt, Stopwatch.GetTimestamp());
                    resumed.TrySetResult(resumedMessage);
                    if (!InPostcopy) return;
                }
                else if (doneMessage is not null)
                {
                    postcopyDone.TrySetResult(doneMessage);
                    return;
                }
                else if (droppedAhead is { } dropped)
                {
                    discarded.TrySetResult(dropped);
                }
            }
        }
        catch (Exception e) when (LinkOwnsFailures)
        {
            // After the post-copy commit the link's failure pauses the migration (PostcopyRecovery); nothing is lost.
            string why = cancel.IsCancellationRequested ? "the migration is ending" : $"the main connection failed ({Describe(e)})";
            BreakPostcopyLink(why);
            resumed.TrySetException(new IOException(why)); // a Resumed still due will not come on this link
        }
        catch (Exception e)
        {
            // Kept even when another thread failed first: a destination that rejects the stream sends its Error and
            // hangs up, and a writer may see the broken connection before this reader sees the Error.
            if (e is RemoteMigrationException remote) Volatile.Write(ref destinationError, remote);
            var reason = cancel.IsCancellationRequested && failure is null ? new OperationCanceledException() : e;
            ready.TrySetException(reason);
            discarded.TrySetException(reason);
            resumed.TrySetException(reason);
            postcopyDone.TrySetException(reason);
            if (!cancel.IsCancellationRequested) Fail(e);
        }
    }

    private RemoteMigrationException? destinationError;
    /// <summary>The return path's bytes read and judged so far (see AwaitReturnPathJudged).</summary>
    private long returnPathBytesJudged;

    /// <summary>
    /// When the return path read Resumed (a Stopwatch timestamp): the downtime ends there, not when the migration
    /// thread, woken by it, gets to measure (on a loaded host that wake-up alone made the downtime 7 ms where the
    /// guest saw 1).
    /// </summary>
    internal long ResumedArrivedAt => Volatile.Read(ref resumedArrivedAt);
    private long resumedArrivedAt;

    /// <summary>
    /// A guard only: how long a failed migration waits for the return path to reach the end of a connection that is
    /// already broken. A reset or a closed connection ends every read at once, after the bytes that came before it;
    /// only a peer that broke one direction and held the other open would make this wait run out.
    /// </summary>
    private static readonly TimeSpan ReturnPathDrainLimit = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The cause to report for a failure: the destination's Error when it sent one, since "connection reset" only
    /// says that the link broke, not why. When the link broke (whichever side noticed first), everything the
    /// destination sent before the break is already on this host, in order, ahead of the break: the return path reads
    /// it and then ends. So the source waits for the return path to end rather than for some time, and the
    /// destination's Error is never lost to a writer that saw the reset first.
    /// </summary>
    private Exception CauseOf(Exception e)
    {
        e = Unwrap(e);
        var first = failure is null ? null : Unwrap(failure);
        if (e is RemoteMigrationException || first is RemoteMigrationException) return first ?? e;
        if (!IsBrokenLink(first ?? e) && !IsBrokenLink(e)) return first ?? e;
        returnPathThread?.Join(ReturnPathDrainLimit);
        return (Exception?)Volatile.Read(ref destinationError) ?? first ?? e;
    }

    /// <summary>A reset, closed or failed connection (not a stall, a timeout or a protocol error, which leave it open).</summary>
    private static bool IsBrokenLink(Exception e) =>
        e is EndOfStreamException || (e is IOException && e is not WriteStalledException && e.InnerException is not TimeoutException);

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
        catch (AggregateException e) when (e.InnerException is not null)
        {
            throw e.InnerException; // the read's own failure ("closed the connection"), not the task's wrapper
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
            main.StopWriting();
            errorSent = true;
        }
        catch
        {
            // The link may be what failed; the destination then notices the closed connection.
        }
    }

    private void OnSettingsChanged()
    {
        limiter.BytesPerSecond = PageDataBandwidth;
        Interlocked.Increment(ref settingsVersion);
    }

    private int tornDown;
    private bool errorSent;

    /// <summary>How long the teardown lets the return path drain after an Error was sent.</summary>
    private static readonly TimeSpan ErrorDrainTime = TimeSpan.FromMilliseconds(500);

    private void Teardown()
    {
        if (Interlocked.Exchange(ref tornDown, 1) == 1) return;
        cancel.Cancel();
        stallWatchdog?.Dispose();
        foreach (var c in channels) c.Connection.Dispose();
        foreach (var c in channels) c.Dispose();
        // After an Error, the return path reads on until the destination closes: closing the socket with bytes from it
        // still unread would send a reset, which can drop the Error before it leaves (the destination then reports
        // "connection reset" instead of the source's reason). A destination that never closes costs at most this.
        if (errorSent) returnPathThread?.Join(ErrorDrainTime);
        main?.Dispose();
        returnPathThread?.Join(TimeSpan.FromSeconds(5));
        encoder?.Dispose();
    }
}
