using Tern.Memory;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Engine.XbzrleThreads;

/// <summary>
/// XBZRLE encoding on several threads, for when one thread cannot keep up with the link: the migration thread only
/// scans the dirty bitmap and hands each page to the worker that owns its cache shard (<see cref="ShardOwnership"/>),
/// in chunks; each worker encodes and fills its own batches for the pass's channels. All calls come from the
/// migration thread.
/// </summary>
internal sealed class XbzrleWorkerPool : IDisposable
{
    private readonly XbzrleEncodeWorker[] workers;
    private readonly PageChunk?[] filling;
    private readonly ShardOwnership ownership;
    private CancellationToken cancel;

    public XbzrleWorkerPool(int threads, IGuestMemory memory, ShardedXbzrleCache cache, RamCounters ram, XbzrleCounters xbzrle)
    {
        if (threads < 2 || threads > cache.Count)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"XBZRLE worker threads must be 2 to the cache's {cache.Count} shards");
        ownership = new ShardOwnership(cache.Count, threads);
        workers = new XbzrleEncodeWorker[threads];
        filling = new PageChunk?[threads];
        try
        {
            for (int t = 0; t < threads; t++) workers[t] = new XbzrleEncodeWorker(t, memory, cache, ownership, ram, xbzrle);
        }
        catch
        {
            foreach (var w in workers) w?.Dispose();
            throw;
        }
    }

    public int Threads => workers.Length;

    /// <summary>Starts a pass: each worker gets its own batch writer over the pass's channels.</summary>
    public void BeginPass(Func<int, PassWriter> writerFor, ulong generation, CancellationToken passCancel)
    {
        cancel = passCancel;
        for (int t = 0; t < workers.Length; t++) workers[t].BeginPass(writerFor(t), generation);
    }

    /// <summary>Hands <paramref name="page"/> to the worker that owns it.</summary>
    public void Submit(PageIndex page)
    {
        int t = ownership.ThreadOf(page);
        var chunk = filling[t] ??= workers[t].RentChunk();
        chunk.Add(page);
        if (!chunk.IsFull) return;
        filling[t] = null;
        workers[t].Submit(chunk, cancel);
    }

    /// <summary>
    /// Ends the pass: hands on the partly filled chunks, waits until every worker has queued its last batch, and
    /// returns the workers' writers (finished) so that their records and bytes count for the pass. Returns the
    /// thread-time the workers spent encoding, in Stopwatch ticks.
    /// </summary>
    public long EndPass(PassWriter main)
    {
        for (int t = 0; t < workers.Length; t++)
        {
            if (filling[t] is { } chunk)
            {
                filling[t] = null;
                workers[t].Submit(chunk, cancel);
            }
            workers[t].EndPass(cancel);
        }
        long ticks = 0;
        foreach (var w in workers)
        {
            w.WaitForPassEnd(cancel);
            main.Absorb(w.Writer!);
            ticks += w.EncodeTicks;
        }
        return ticks;
    }

    public void Dispose()
    {
        foreach (var w in workers) w.Dispose();
    }
}
