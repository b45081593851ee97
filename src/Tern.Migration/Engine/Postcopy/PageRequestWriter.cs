using System.Collections.Concurrent;
using Tern.Memory;
using Tern.Memory.Postcopy;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Postcopy;

/// <summary>
/// The destination's end of the urgent lane, outgoing: the missing-page service's requests are queued here (on its
/// fault thread, which must never wait on the network) and a thread of their own sends them as PageRequest messages,
/// as many as are waiting in one message. Requests made while no lane is connected (before it connects, or while
/// post-copy is paused) wait for one. Every request is remembered until its page has arrived, so that a lane attached
/// after a broken one asks again for the pages the old one may have lost.
/// </summary>
internal sealed class PageRequestWriter : IMissingPageSource, IDisposable
{
    private readonly ConcurrentQueue<ulong> pending = new();
    private readonly ConcurrentDictionary<ulong, byte> outstanding = new();
    private readonly SemaphoreSlim signal = new(0);
    private readonly CancellationTokenSource stop = new();
    private readonly Func<PageIndex, bool> arrived;
    private readonly Action<Exception> onFailure;
    private readonly Thread thread;
    private FrameConnection? lane;
    private int attachments;

    /// <param name="arrived">Whether a page has arrived (its request needs no repeating).</param>
    /// <param name="onFailure">The lane broke while sending (the requests stay outstanding).</param>
    public PageRequestWriter(Func<PageIndex, bool> arrived, Action<Exception> onFailure)
    {
        this.arrived = arrived;
        this.onFailure = onFailure;
        thread = new Thread(Send) { IsBackground = true, Name = "tern incoming page requests" };
        thread.Start();
    }

    /// <summary>Request messages sent so far.</summary>
    public long MessagesSent => Interlocked.Read(ref messages);
    private long messages;

    /// <summary>Requests sent again on a recovered lane.</summary>
    public long Repeated => Interlocked.Read(ref repeated);
    private long repeated;

    /// <summary>
    /// A lane connected: requests go out on it. A lane that replaces a broken one first asks again for every page
    /// requested before that has not arrived.
    /// </summary>
    public void Attach(FrameConnection connection)
    {
        Volatile.Write(ref lane, connection);
        // Only a lane after the first asks again: requests made before the first lane connected (restoring the state
        // may fault) are still pending, never sent, and are not repeats.
        if (Interlocked.Increment(ref attachments) > 1)
        {
            while (pending.TryDequeue(out _)) { }
            foreach (var page in outstanding.Keys)
            {
                if (arrived(new PageIndex(page))) outstanding.TryRemove(page, out _);
                else
                {
                    pending.Enqueue(page);
                    Interlocked.Increment(ref repeated);
                }
            }
        }
        signal.Release();
    }

    /// <summary>The lane is gone (post-copy paused): requests wait for the next one.</summary>
    public void Detach() => Volatile.Write(ref lane, null);

    public void RequestPage(PageIndex page)
    {
        outstanding.TryAdd(page.Value, 0);
        pending.Enqueue(page.Value);
        signal.Release();
    }

    private void Send()
    {
        var batch = new ulong[ProtocolConstants.MaxRequestedPages];
        var payload = new PayloadWriter(8 + batch.Length * 8);
        try
        {
            while (true)
            {
                signal.Wait(stop.Token);
                var connection = Volatile.Read(ref lane);
                if (connection is null) continue; // kept pending and outstanding; Attach signals again
                int n = 0;
                while (n < batch.Length && pending.TryDequeue(out ulong page)) batch[n++] = page;
                if (n == 0) continue;
                if (n == batch.Length) signal.Release(); // more may be waiting behind a full batch
                payload.Reset();
                PageRequestMessage.Write(payload, batch.AsSpan(0, n));
                try
                {
                    connection.Write(MessageType.PageRequest, payload);
                    connection.Flush();
                    Interlocked.Increment(ref messages);
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    // Disposed while writing: the lane was closed under this thread, which ends here (an exception
                    // escaping a thread would end the whole process).
                    return;
                }
                catch (Exception e)
                {
                    // The requests stay outstanding: the next lane asks for them again.
                    Interlocked.CompareExchange(ref lane, null, connection);
                    onFailure(new IOException($"the urgent lane failed while asking the source for missing pages ({e.Message})", e));
                }
                foreach (var page in outstanding.Keys)
                    if (arrived(new PageIndex(page))) outstanding.TryRemove(page, out _);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        thread.Join(TimeSpan.FromSeconds(5));
    }
}
