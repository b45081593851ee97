using System.Collections.Concurrent;
using System.Diagnostics;
using Tern.Memory;
using Tern.Migration.Pages;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Engine.XbzrleThreads;

/// <summary>
/// One XBZRLE encoding thread. It owns some of the cache's shards (<see cref="ShardOwnership"/>) and, for each page the
/// migration thread hands it, does all the page's work: the zero check in guest memory, the copy out of guest memory,
/// the cache lookup, the delta or the whole page, and the cache update from that same copy. It fills batches of its
/// own (its own <see cref="PassWriter"/>) and queues them on the pass's channels, so results go straight to the
/// channel writers; each page is in exactly one batch of one pass, and a pass ends (<see cref="EndPass"/>) only
/// after the worker has queued everything, so the next pass's version of a page can never overtake this one.
/// </summary>
internal sealed class XbzrleEncodeWorker : IDisposable
{
    /// <summary>
    /// Chunks queued to the worker before the migration thread waits (back-pressure: 32 × 64 pages, a few ms of
    /// encoding). Deep enough that a worker does not run dry while the migration thread waits for a core on a busy
    /// host; the pages are only indices, so depth costs no memory to speak of.
    /// </summary>
    private const int QueueChunks = 32;

    /// <summary>Chunks between two hand-overs of the counts (about 1024 pages).</summary>
    private const int FlushEveryChunks = 16;

    private readonly IGuestMemory memory;
    private readonly XbzrleShardEncoder encoder;
    private readonly RamCounters ram;
    private readonly XbzrleCounters xbzrle;
    private readonly BlockingCollection<PageChunk> requests = new(QueueChunks);
    private readonly ConcurrentQueue<PageChunk> free = new();
    private readonly ManualResetEventSlim passDone = new(false);
    private readonly PageArray copyPage = new(1);
    private readonly Thread thread;
    private PassWriter? writer;
    private ulong generation;
    private long encodeTicks;
    private int chunksSinceFlush;
    private volatile Exception? crash;

    public XbzrleEncodeWorker(int index, IGuestMemory memory, ShardedXbzrleCache cache, ShardOwnership ownership, RamCounters ram, XbzrleCounters xbzrle)
    {
        Index = index;
        this.memory = memory;
        this.ram = ram;
        this.xbzrle = xbzrle;
        encoder = new XbzrleShardEncoder(cache, ownership, index);
        thread = new Thread(Run) { IsBackground = true, Name = $"tern-xbzrle-{index}" };
        thread.Start();
    }

    public int Index { get; }

    /// <summary>The pass's batches from this worker (valid after <see cref="WaitForPassEnd"/>).</summary>
    public PassWriter? Writer => writer;

    /// <summary>Time spent encoding in the pass, excluding waits for pages and for the channels, in Stopwatch ticks.</summary>
    public long EncodeTicks => Interlocked.Read(ref encodeTicks);

    /// <summary>Migration thread, while the worker is idle (between passes): the pass's writer and cache generation.</summary>
    public void BeginPass(PassWriter passWriter, ulong passGeneration)
    {
        writer = passWriter;
        generation = passGeneration;
        Interlocked.Exchange(ref encodeTicks, 0);
        passDone.Reset();
    }

    /// <summary>Migration thread: an empty chunk to fill (recycled when one is free).</summary>
    public PageChunk RentChunk()
    {
        if (!free.TryDequeue(out var chunk)) chunk = new PageChunk();
        chunk.Reset();
        return chunk;
    }

    /// <summary>Migration thread: queues a chunk; waits while the worker has <see cref="QueueChunks"/> queued.</summary>
    public void Submit(PageChunk chunk, CancellationToken cancel)
    {
        // Re-check the worker's health while waiting: a worker that died consumes nothing.
        while (!requests.TryAdd(chunk, 100, cancel)) ThrowIfCrashed();
    }

    /// <summary>Migration thread: the pass ends after the chunks already queued.</summary>
    public void EndPass(CancellationToken cancel)
    {
        var end = RentChunk();
        end.EndOfPass = true;
        Submit(end, cancel);
    }

    /// <summary>Migration thread: waits until the worker has queued the pass's last batch on the channels.</summary>
    public void WaitForPassEnd(CancellationToken cancel)
    {
        while (!passDone.Wait(100, cancel)) ThrowIfCrashed();
        ThrowIfCrashed();
    }

    private void Run()
    {
        try
        {
            foreach (var chunk in requests.GetConsumingEnumerable())
            {
                if (crash is null)
                {
                    if (chunk.EndOfPass) FinishPass();
                    else Encode(chunk);
                }
                if (chunk.EndOfPass && crash is not null) passDone.Set();
                free.Enqueue(chunk);
            }
        }
        catch (Exception e)
        {
            crash = e;
            passDone.Set();
        }
    }

    private void Encode(PageChunk chunk)
    {
        var w = writer!;
        long sendBefore = w.SendTicks;
        long started = Stopwatch.GetTimestamp();
        try
        {
            for (int i = 0; i < chunk.Count; i++) EncodePage(chunk.Pages[i], w);
        }
        catch (Exception e)
        {
            // A channel that failed (the migration is being torn down) or a bug: the migration thread re-raises it.
            crash = e;
        }
        Interlocked.Add(ref encodeTicks, Stopwatch.GetTimestamp() - started - (w.SendTicks - sendBefore));
        // Hand the counts on now and then, so query-migrate's live figures move during a pass.
        if (++chunksSinceFlush == FlushEveryChunks)
        {
            chunksSinceFlush = 0;
            encoder.Tally.FlushTo(ram, xbzrle);
        }
    }

    private void EncodePage(PageIndex page, PassWriter w)
    {
        var live = memory.GetSpan(page.Address, PageSize.Bytes);
        if (ZeroPage.IsZero(live))
        {
            w.AppendZero(page);
            encoder.Tally.Zero++;
            encoder.Invalidate(page);
            return;
        }
        // The stable copy: the guest keeps writing, and the cache must hold exactly what is sent.
        var copy = copyPage.Page(0);
        live.CopyTo(copy);
        if (encoder.TrySendDelta(page, copy, w, generation)) return;
        w.AppendNormal(page, copy);
        encoder.Tally.Normal++;
    }

    private void FinishPass()
    {
        try
        {
            writer!.Finish();
            encoder.Tally.FlushTo(ram, xbzrle);
        }
        catch (Exception e)
        {
            crash = e;
        }
        passDone.Set();
    }

    private void ThrowIfCrashed()
    {
        if (crash is { } e)
            throw e is OperationCanceledException ? e : new InvalidOperationException($"XBZRLE encoding thread {Index} failed: {e.Message}", e);
    }

    /// <summary>Stops the thread after the chunk in hand (queued pages are dropped) and waits for it.</summary>
    public void Dispose()
    {
        if (!requests.IsAddingCompleted) requests.CompleteAdding();
        thread.Join(TimeSpan.FromSeconds(10));
        requests.Dispose();
        passDone.Dispose();
    }
}
