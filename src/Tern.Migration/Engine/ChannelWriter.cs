using System.Collections.Concurrent;
using System.Diagnostics;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// The one thread that writes to one connection. The migration thread queues frames (bounded: it blocks when the
/// link is the bottleneck, which is the back-pressure that paces page scanning); this thread applies the bandwidth
/// limit, writes, and counts. So scanning and sending overlap on two cores instead of taking turns. Several threads
/// may queue frames at once (the XBZRLE encoding workers each fill their own batches).
/// </summary>
internal sealed class ChannelWriter : IDisposable
{
    private const int QueueFrames = 16;

    private readonly BlockingCollection<OutgoingFrame> queue = new(QueueFrames);
    private readonly FrameConnection connection;
    private readonly BandwidthLimiter limiter;
    private readonly RamCounters counters;
    private readonly CancellationToken cancel;
    private readonly Action<Exception> onFailure;
    private readonly Thread thread;
    private readonly ManualResetEventSlim idle = new(true);
    // Frames queued and not yet handed to the kernel. Changed under pendingGate together with `idle`, so that with
    // several producers a frame queued just as the writer empties the queue cannot leave `idle` set while it waits.
    private readonly Lock pendingGate = new();
    private int pending;
    private long busyTicks;

    public ChannelWriter(int index, FrameConnection connection, BandwidthLimiter limiter, RamCounters counters,
        CancellationToken cancel, Action<Exception> onFailure)
    {
        Index = index;
        this.connection = connection;
        this.limiter = limiter;
        this.counters = counters;
        this.cancel = cancel;
        this.onFailure = onFailure;
        thread = new Thread(Run) { IsBackground = true, Name = $"tern migration channel {index}" };
        thread.Start();
    }

    public int Index { get; }
    public FrameConnection Connection => connection;

    /// <summary>Queues a frame; blocks while the queue is full. The buffer belongs to the writer from now on.</summary>
    public void Send(OutgoingFrame frame)
    {
        lock (pendingGate)
        {
            if (pending++ == 0) idle.Reset();
        }
        try
        {
            queue.Add(frame, cancel);
        }
        catch
        {
            frame.Release();
            lock (pendingGate)
            {
                if (--pending == 0) idle.Set();
            }
            throw;
        }
    }

    /// <summary>
    /// Time this writer spent taking bandwidth tokens and writing (not waiting for frames), in Stopwatch ticks: the
    /// link's busy time, from which the rate the link can carry is measured.
    /// </summary>
    public long BusyTicks => Interlocked.Read(ref busyTicks);

    public void Send(MessageType type, PayloadWriter payload) => Send(OutgoingFrame.Copy(type, payload.WrittenSpan));

    /// <summary>Waits until every queued frame has been handed to the kernel.</summary>
    public void WaitUntilSent()
    {
        idle.Wait(cancel);
        cancel.ThrowIfCancellationRequested();
    }

    private void Run()
    {
        try
        {
            foreach (var frame in queue.GetConsumingEnumerable(cancel))
            {
                long started = Stopwatch.GetTimestamp();
                try
                {
                    limiter.Take(Frame.HeaderSize + frame.Length, cancel);
                    connection.Write(frame.Type, frame.Buffer.AsMemory(0, frame.Length));
                    counters.BytesSent(Index, Frame.HeaderSize + frame.Length);
                }
                finally
                {
                    frame.Release();
                    bool last;
                    lock (pendingGate) last = --pending == 0;
                    if (last)
                    {
                        connection.Flush();
                        // Set only if nothing was queued during the flush (that frame's Send reset `idle`).
                        lock (pendingGate)
                        {
                            if (pending == 0) idle.Set();
                        }
                    }
                    Interlocked.Add(ref busyTicks, Stopwatch.GetTimestamp() - started);
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            onFailure(new IOException($"sending to {connection.Peer} on channel {Index} failed: {e.Message}", e));
        }
        finally
        {
            idle.Set();
        }
    }

    /// <summary>Stops taking frames and waits for the writer thread; false if it is stuck in a write.</summary>
    public bool Stop(TimeSpan timeout)
    {
        StopTaking();
        return thread.Join(timeout);
    }

    /// <summary>
    /// Whether this writer can never write again: it takes no more frames (<see cref="StopTaking"/>) and everything it
    /// was given has been written and flushed. Its thread may not have ended yet, but it has nothing left to do, so
    /// another thread may write to the connection.
    /// </summary>
    public bool Finished => queue.IsAddingCompleted && idle.IsSet && Volatile.Read(ref pending) == 0;

    /// <summary>
    /// Stops taking frames without waiting: the writer thread ends once it has written what is queued (a later
    /// <see cref="Send"/> throws). <see cref="Stop"/> then only has to wait for that.
    /// </summary>
    public void StopTaking()
    {
        lock (queue)
        {
            if (!queue.IsAddingCompleted) queue.CompleteAdding();
        }
    }

    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(5));
        while (queue.TryTake(out var f)) f.Release();
        queue.Dispose();
        idle.Dispose();
    }
}
