using System.Collections.Concurrent;
using Tern.Memory;
using Tern.Memory.Postcopy;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Postcopy;

/// <summary>
/// The destination's end of the urgent lane, outgoing: the missing-page service's requests are queued here (on its
/// fault thread, which must never wait on the network) and a thread of their own sends them as PageRequest messages,
/// as many as are waiting in one message. Requests made before the lane has connected wait for it.
/// </summary>
internal sealed class PageRequestWriter : IMissingPageSource, IDisposable
{
    private readonly ConcurrentQueue<ulong> pending = new();
    private readonly SemaphoreSlim signal = new(0);
    private readonly TaskCompletionSource<FrameConnection> lane = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource stop = new();
    private readonly Action<Exception> onFailure;
    private readonly Thread thread;

    public PageRequestWriter(Action<Exception> onFailure)
    {
        this.onFailure = onFailure;
        thread = new Thread(Send) { IsBackground = true, Name = "tern incoming page requests" };
        thread.Start();
    }

    /// <summary>Request messages sent so far.</summary>
    public long MessagesSent => Interlocked.Read(ref messages);
    private long messages;

    /// <summary>The urgent lane connected: requests go out on it.</summary>
    public void Attach(FrameConnection connection) => lane.TrySetResult(connection);

    public void RequestPage(PageIndex page)
    {
        pending.Enqueue(page.Value);
        signal.Release();
    }

    private void Send()
    {
        var batch = new ulong[ProtocolConstants.MaxRequestedPages];
        var payload = new PayloadWriter(8 + batch.Length * 8);
        try
        {
            var connection = lane.Task.Wait(Timeout.Infinite, stop.Token) ? lane.Task.Result : throw new OperationCanceledException();
            while (true)
            {
                signal.Wait(stop.Token);
                int n = 0;
                while (n < batch.Length && pending.TryDequeue(out ulong page)) batch[n++] = page;
                if (n == 0) continue;
                payload.Reset();
                PageRequestMessage.Write(payload, batch.AsSpan(0, n));
                connection.Write(MessageType.PageRequest, payload);
                connection.Flush();
                Interlocked.Increment(ref messages);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            if (!stop.IsCancellationRequested) onFailure(new IOException($"could not ask the source for missing pages: {e.Message}", e));
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        thread.Join(TimeSpan.FromSeconds(5));
    }
}
