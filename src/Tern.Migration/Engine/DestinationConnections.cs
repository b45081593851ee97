using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// The connections of one incoming migration and the receiver threads that read them and write guest RAM. It owns
/// their lifetime: <see cref="Close"/> closes every connection (which makes every receiver stop reading) and refuses
/// any connection added after it, and <see cref="JoinReceivers"/> returns only once every receiver thread has ended,
/// so whoever frees guest RAM calls both first. A thread is recorded only once it has started.
/// </summary>
internal sealed class DestinationConnections
{
    private readonly object gate = new();
    private readonly List<FrameConnection> all = [];
    private readonly FrameConnection?[] channels = new FrameConnection?[ProtocolConstants.MaxChannels];
    private readonly List<Thread> receivers = [];
    private bool closed;

    /// <summary>The main connection and every page channel taken so far.</summary>
    public int Count { get { lock (gate) return all.Count; } }

    public long BytesRead { get { lock (gate) return all.Sum(c => c.BytesRead); } }

    /// <summary>What the given channels (0 is the main connection) have delivered so far; channels not connected count 0.</summary>
    public long BytesReadBy(IEnumerable<int> indexes)
    {
        lock (gate) return indexes.Where(i => i >= 0 && i < channels.Length).Sum(i => channels[i]?.BytesRead ?? 0);
    }

    /// <summary>Takes the main connection (channel 0); false once closed (the connection is closed then).</summary>
    public bool AddMain(FrameConnection main)
    {
        lock (gate)
        {
            if (closed)
            {
                main.Dispose();
                return false;
            }
            channels[0] = main;
            all.Add(main);
            return true;
        }
    }

    /// <summary>
    /// Takes page channel <paramref name="index"/> and starts its receiver thread, which runs
    /// <paramref name="receive"/>. Returns null, or why the channel is refused (the caller closes it then).
    /// </summary>
    public string? AddChannel(FrameConnection connection, int index, int allowed, Action<FrameConnection, int> receive)
    {
        lock (gate)
        {
            if (closed) return "the migration it belongs to has ended";
            if (index < 1 || index >= allowed)
                throw new ProtocolException($"page channel {index} connected, but this migration has channels 1 to {allowed - 1} only");
            if (channels[index] is not null) throw new ProtocolException($"page channel {index} connected twice");
            var thread = new Thread(() => receive(connection, index)) { IsBackground = true, Name = $"tern incoming channel {index}" };
            thread.Start();
            receivers.Add(thread);
            channels[index] = connection;
            all.Add(connection);
            Monitor.PulseAll(gate);
            return null;
        }
    }

    /// <summary>
    /// Takes post-copy's urgent lane (one per migration) and starts its receiver thread. Returns null, or why it is
    /// refused (the caller closes it then).
    /// </summary>
    public string? AddUrgentLane(FrameConnection connection, Action<FrameConnection> receive)
    {
        lock (gate)
        {
            if (closed) return "the migration it belongs to has ended";
            if (urgentLane is not null) throw new ProtocolException("the urgent lane connected twice");
            var thread = new Thread(() => receive(connection)) { IsBackground = true, Name = "tern incoming urgent lane" };
            thread.Start();
            receivers.Add(thread);
            urgentLane = connection;
            all.Add(connection);
            return null;
        }
    }

    private FrameConnection? urgentLane;

    /// <summary>
    /// Waits up to <paramref name="patience"/> for channels 1 to <paramref name="wanted"/>-1 to connect (the source
    /// opens them just before the pass that uses them, and they may arrive in any order). Returns how many channels,
    /// counted from 0, are open without a gap.
    /// </summary>
    public int WaitForChannels(int wanted, TimeSpan patience, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + patience;
        lock (gate)
        {
            while (OpenWithoutGap() < wanted && DateTime.UtcNow < deadline && !cancel.IsCancellationRequested && !closed)
                Monitor.Wait(gate, TimeSpan.FromMilliseconds(50));
            return OpenWithoutGap();
        }
    }

    private int OpenWithoutGap()
    {
        int n = 0;
        while (n < channels.Length && channels[n] is not null) n++;
        return n;
    }

    /// <summary>Closes every connection, now and any added later; each receiver's read fails at once.</summary>
    public void Close()
    {
        lock (gate)
        {
            closed = true;
            foreach (var c in all) c.Dispose();
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>
    /// Stops every receiver's reads (the source stalled): the channels close, and the main connection stops reading
    /// but can still carry the Error that tells the source why. Connections added later are refused.
    /// </summary>
    public void StopReading()
    {
        lock (gate)
        {
            closed = true;
            foreach (var c in all)
            {
                if (ReferenceEquals(c, channels[0])) c.StopReading();
                else c.Dispose();
            }
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>
    /// After <see cref="Close"/> or <see cref="StopReading"/>: waits, without a time limit, until every receiver thread has ended. Guest RAM must
    /// outlive them all; a limit here would let its release race a receiver still writing a page.
    /// </summary>
    public void JoinReceivers()
    {
        Thread[] threads;
        lock (gate)
        {
            if (!closed) throw new InvalidOperationException("close the connections (or stop their reads) before waiting for their receivers");
            threads = [.. receivers];
        }
        foreach (var t in threads) t.Join();
    }
}
