using System.Net.Sockets;
using Tern.Migration.Protocol;
using Tern.Os;

namespace Tern.Migration.Transport;

/// <summary>Where a new connection goes once it has said who it is.</summary>
public interface IIncomingConnectionHandler
{
    /// <summary>
    /// A whole Hello frame arrived on a new connection. Returns null when a migration took the connection (it owns it
    /// from then on), or why it is refused: the refusal is sent to the peer as an Error and the connection closed.
    /// </summary>
    string? OnHello(FrameConnection connection, ReadOnlyMemory<byte> payload);

    /// <summary>A whole ChannelHello arrived on a new connection: as <see cref="OnHello"/>, for a page channel.</summary>
    string? OnChannelHello(FrameConnection connection, ChannelHelloMessage hello);

    /// <summary>Something about a connection that was not taken, in the operator's words.</summary>
    void OnLog(string text);
}

/// <summary>
/// Accepts every connection on a migration port, all the time, and gives each one <see cref="FirstFrameDeadline"/> to
/// present a whole Hello or ChannelHello frame, concurrently with every other: a peer that connects and says nothing,
/// or trickles a frame, cannot hold up a real source or its page channels. The first frame is read asynchronously (no
/// thread per connection); at most <see cref="MaxPending"/> connections wait for theirs, and a newer one evicts the
/// oldest. A frame that is neither Hello nor ChannelHello, larger than any of them, or malformed, is answered with an
/// Error that names it, and the connection is closed.
/// </summary>
public sealed class IncomingConnections : IDisposable
{
    /// <summary>How long a new connection has to deliver its whole first frame (a trickle does not extend it).</summary>
    public static readonly TimeSpan FirstFrameDeadline = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The largest first frame read: a Hello is at most about 8 KiB (two 4 KiB strings), a ChannelHello 26 bytes. A
    /// bigger claim is refused before any of it is read or allocated.
    /// </summary>
    public const int FirstFrameMaxBytes = 64 << 10;

    /// <summary>How many connections may wait for their first frame at once; beyond it the oldest one is closed.</summary>
    public const int MaxPending = 64;

    private readonly IMigrationListener listener;
    private readonly IIncomingConnectionHandler handler;
    private readonly CancellationTokenSource stop = new();
    private readonly LinkedList<MigrationLink> pending = new();
    private readonly Task acceptLoop;

    /// <param name="listener">Listening already; stays the caller's (it is not stopped here).</param>
    public IncomingConnections(IMigrationListener listener, IIncomingConnectionHandler handler)
    {
        this.listener = listener;
        this.handler = handler;
        acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>How many connections are waiting for their first frame now.</summary>
    public int Pending { get { lock (pending) return pending.Count; } }

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            MigrationLink link;
            try
            {
                link = await listener.AcceptAsync(stop.Token);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return; // the owner stopped the listener
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted or SocketError.InvalidArgument)
            {
                return; // the owner stopped the listener
            }
            catch (SocketException e)
            {
                // Out of descriptors, for example: say so and keep accepting once some are closed.
                handler.OnLog($"accepting a migration connection failed: {e.Message}");
                await Task.Delay(100);
                continue;
            }
            _ = GreetAsync(link);
        }
    }

    /// <summary>Reads one connection's first frame within the deadline and hands the connection on.</summary>
    private async Task GreetAsync(MigrationLink link)
    {
        string peer = link.Peer;
        LinkedListNode<MigrationLink> node;
        lock (pending)
        {
            if (stop.IsCancellationRequested)
            {
                link.Dispose();
                return;
            }
            node = pending.AddLast(link);
            if (pending.Count > MaxPending)
            {
                var oldest = pending.First!;
                pending.Remove(oldest);
                handler.OnLog($"closed a connection from {oldest.Value.Peer}: it had not said Hello and {MaxPending} newer connections were waiting");
                oldest.Value.Dispose(); // its read fails at once and its task ends
            }
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        deadline.CancelAfter(FirstFrameDeadline);
        FrameConnection? taken = null;
        try
        {
            var (type, payload) = await ReadFirstFrameAsync(link, deadline.Token);
            lock (pending)
            {
                if (node.List is null) return; // evicted just now
                pending.Remove(node);
            }
            if (stop.IsCancellationRequested) return;
            var connection = new FrameConnection(link);
            string? refusal = type == MessageType.Hello
                ? handler.OnHello(connection, payload)
                : handler.OnChannelHello(connection, ChannelHelloMessage.Read(payload));
            if (refusal is null)
            {
                taken = connection;
                return;
            }
            SendBestEffortError(link, refusal);
            handler.OnLog($"refused a connection from {peer}: {refusal}");
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            handler.OnLog($"closed a connection from {peer}: it sent no whole Hello or ChannelHello within {FirstFrameDeadline.TotalSeconds:0} s");
        }
        catch (ProtocolException e)
        {
            SendBestEffortError(link, e.Message);
            handler.OnLog($"refused a connection from {peer}: {e.Message}");
        }
        catch (EndOfStreamException)
        {
            if (!stop.IsCancellationRequested) handler.OnLog($"a connection from {peer} closed before it said Hello");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Evicted (said already) or this router is stopping: nothing more to tell anyone.
            bool evicted;
            lock (pending) evicted = node.List is null;
            if (!evicted && !stop.IsCancellationRequested) handler.OnLog($"a connection from {peer} failed before it said Hello: {e.Message}");
        }
        finally
        {
            lock (pending) if (node.List is not null) pending.Remove(node);
            if (taken is null) link.Dispose();
        }
    }

    private static async Task<(MessageType Type, byte[] Payload)> ReadFirstFrameAsync(MigrationLink link, CancellationToken deadline)
    {
        var header = new byte[Frame.HeaderSize];
        await ReadExactlyAsync(link, header, deadline);
        var (type, length, crc) = Frame.ReadHeader(header);
        if (type is not (MessageType.Hello or MessageType.ChannelHello))
            throw ProtocolException.Unexpected(type, "waiting for Hello or ChannelHello on a new connection");
        if (length > FirstFrameMaxBytes)
            throw new ProtocolException($"{type} claims {length} bytes; a {type} is never larger than {FirstFrameMaxBytes}");
        var payload = new byte[length];
        await ReadExactlyAsync(link, payload, deadline);
        if (Crc32C.Compute(payload) != crc) throw new ProtocolException($"{type} frame failed its checksum: the stream was corrupted");
        return (type, payload);
    }

    private static async Task ReadExactlyAsync(MigrationLink link, Memory<byte> buffer, CancellationToken deadline)
    {
        while (!buffer.IsEmpty)
        {
            int n = await link.ReadAsync(buffer, deadline);
            if (n == 0) throw new EndOfStreamException();
            buffer = buffer[n..];
        }
    }

    private static void SendBestEffortError(MigrationLink link, string text)
    {
        try
        {
            var payload = new PayloadWriter();
            new ErrorMessage(ErrorMessage.Failed, text).Write(payload);
            var bytes = payload.WrittenSpan.ToArray();
            var header = new byte[Frame.HeaderSize];
            Frame.WriteHeader(header, MessageType.Error, bytes);
            link.Write(header, bytes);
        }
        catch
        {
            // The peer may be gone already; closing is all that is left.
        }
    }

    /// <summary>Stops accepting and closes every connection still waiting for its first frame.</summary>
    public void Dispose()
    {
        stop.Cancel();
        lock (pending)
        {
            foreach (var s in pending) s.Dispose();
            pending.Clear();
        }
        try
        {
            acceptLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
