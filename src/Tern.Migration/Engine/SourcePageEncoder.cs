using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Api;
using Tern.Migration.Compression;
using Tern.Migration.Engine.XbzrleThreads;
using Tern.Migration.Pages;
using Tern.Migration.Protocol;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Engine;

/// <summary>
/// Turns dirty pages into page records, choosing per page the cheapest form the operator allows:
/// <list type="number">
/// <item>a never-touched page (first pass) or an all-zero page: a zero marker;</item>
/// <item>with XBZRLE, a page whose last-sent version is cached: its delta against it (nothing at all when unchanged);</item>
/// <item>with compression, the page compressed by the worker pipeline (whole if it does not shrink);</item>
/// <item>otherwise the whole page.</item>
/// </list>
/// The XBZRLE cache always equals what the destination holds: it is updated from the same stable copy that is sent,
/// and a page sent in a form that does not update it is dropped from it. Pages are copied out of guest memory before
/// encoding (the guest keeps writing); the zero check reads guest memory in place, and a page sent whole with
/// neither XBZRLE nor compression is copied straight into its frame, which is safe because a page the guest writes
/// afterwards is dirty again and a later pass sends it.
/// With XBZRLE on several threads (<see cref="EncoderSettings.XbzrleThreads"/>, no compression), the migration thread
/// only hands each dirty page to the worker that owns its cache shard, which does all of the above for it
/// (<see cref="XbzrleWorkerPool"/>).
/// </summary>
internal sealed class SourcePageEncoder(IGuestMemory memory, RamCounters counters, int? hostCores = null) : IDisposable
{
    // Page-aligned, as guest RAM and the XBZRLE cache are: the encoder's vector loads then never straddle cache lines.
    private readonly PageArray copyPage = new(1);
    private PassWriter? writer;
    private EncoderSettings? settings;
    private ShardedXbzrleCache? cache;
    // The migration thread's own XBZRLE path over every shard (one thread), and the workers (several).
    private XbzrleShardEncoder? inline;
    private XbzrleWorkerPool? workers;
    // The workers encode this pass (a small pass stays on the migration thread; the pool waits for the next).
    private bool workersThisPass;

    /// <summary>
    /// Pages per worker below which a pass is encoded on the migration thread although workers are asked for: waking
    /// the workers and waiting for their last batches costs tens of microseconds on an idle host and milliseconds on a
    /// loaded one, more than a few hundred pages take to encode (about a microsecond each), and the final pass, when
    /// the guest is paused, is usually that small.
    /// </summary>
    public const int MinPagesPerWorker = 1024;
    private long inlinePagesSinceFlush;
    private ulong cacheRequestedBytes;
    private CompressionPipeline? pipeline;
    private (string Method, int Level, int Threads) pipelineConfig;

    public XbzrleCounters Xbzrle { get; } = new();

    /// <summary>The cache's size now (0 when XBZRLE has not run).</summary>
    public ulong CacheBytes => cache?.CapacityBytes ?? 0;

    /// <summary>Host memory the cache's storage holds now (it fills lazily, so this grows up to <see cref="CacheBytes"/>).</summary>
    public ulong CacheHeldBytes => cache?.AllocatedBytes ?? 0;

    /// <summary>Threads encoding XBZRLE in the current pass (1: the migration thread; 0: XBZRLE is off).</summary>
    public int XbzrleThreads => cache is null ? 0 : workersThisPass ? workers!.Threads : 1;

    /// <summary>
    /// After <see cref="EndPass"/> with workers: the thread-time they spent encoding the pass (excluding waits for
    /// pages and for the channels), in Stopwatch ticks; null when the pass was encoded on the migration thread.
    /// </summary>
    public long? WorkerEncodeTicks { get; private set; }

    /// <summary>
    /// Compression counters over the whole migration (null until compression first ran): one set outlives the
    /// pipelines that a change of method, level or threads replaces, as QEMU's counters are cumulative.
    /// </summary>
    public CompressionCounters? Compression => pipeline is null ? null : compressionCounters;

    private readonly CompressionCounters compressionCounters = new();

    private DirtyBitmap? populated;

    /// <summary>
    /// Starts a pass with the given settings: creates, resizes or drops the cache and the compression workers.
    /// <paramref name="populatedPages"/>, for the first pass only, lists the pages that were not holes when dirty
    /// tracking started: any other page is sent as zero without being read (reading would allocate it); if the
    /// guest fills it later, it is dirty and a later pass sends it. It applies to this pass and no other.
    /// </summary>
    /// <param name="workerWriter">A batch writer of this pass for XBZRLE worker <c>t</c> (used only with workers).</param>
    /// <param name="cancel">Ends waits for the workers when the migration stops.</param>
    /// <param name="pages">The pass's dirty pages: a pass of fewer than <see cref="MinPagesPerWorker"/> a worker stays on this thread.</param>
    public void BeginPass(PassWriter passWriter, EncoderSettings next, DirtyBitmap? populatedPages = null,
        Func<int, PassWriter>? workerWriter = null, CancellationToken cancel = default, long pages = long.MaxValue)
    {
        writer = passWriter;
        populated = populatedPages;
        settings = next;
        WorkerEncodeTicks = null;
        if (next.Xbzrle && next.XbzrleCacheBytes > 0) PrepareCache(next.XbzrleCacheBytes);
        else if (cache is not null && !next.Xbzrle)
        {
            // Off: drop the cache and give its memory back; switching on again starts from empty.
            DropCache();
        }
        PrepareXbzrleThreads(next, pages);
        inlinePagesSinceFlush = 0;
        if (workersThisPass) workers!.BeginPass(workerWriter ?? throw new ArgumentNullException(nameof(workerWriter), "XBZRLE workers need a writer each"),
            next.Pass, cancel);
        if (next.Compress && (pipeline is null || pipelineConfig != (next.CompressMethod, next.CompressLevel, next.CompressThreads)))
        {
            pipeline?.Dispose();
            pipelineConfig = (next.CompressMethod, next.CompressLevel, next.CompressThreads);
            pipeline = new CompressionPipeline(
                new CompressionPipelineOptions { Workers = next.CompressThreads, Codec = new PageCodecOptions(next.CompressMethod, next.CompressLevel) },
                OnCompressed,
                compressionCounters);
        }
    }

    public void Encode(PageIndex page)
    {
        var w = writer!;
        if (populated is { } known && !known.IsSet(page))
        {
            w.AppendZero(page);
            counters.ZeroPage();
            return;
        }
        if (workersThisPass)
        {
            workers!.Submit(page);
            return;
        }
        var live = memory.GetSpan(page.Address, PageSize.Bytes);
        if (ZeroPage.IsZero(live))
        {
            w.AppendZero(page);
            counters.ZeroPage();
            inline?.Invalidate(page);
            return;
        }
        if (cache is null && (pipeline is null || !settings!.Compress))
        {
            // Whole page, nothing computed from its bytes: the one copy is the one into the frame. If the guest
            // writes the page meanwhile, the frame may hold a mix, but the page is dirty again and a later pass
            // sends it, as for the zero check above.
            w.AppendNormal(page, live);
            counters.NormalPage();
            return;
        }
        var copy = copyPage.Page(0);
        live.CopyTo(copy);
        if (inline is not null)
        {
            bool sent = inline.TrySendDelta(page, copy, w, settings!.Pass);
            if (++inlinePagesSinceFlush % 1024 == 0) inline.Tally.FlushTo(counters, Xbzrle);
            if (sent) return;
        }
        SendWholeOrCompressed(page, copy);
    }

    /// <summary>
    /// Hands back pages still being compressed or encoded by the workers (whose batches are then all queued on the
    /// channels and counted in the pass's writer); call before the pass ends.
    /// </summary>
    public void EndPass()
    {
        pipeline?.Flush();
        if (workersThisPass) WorkerEncodeTicks = workers!.EndPass(writer!);
        inline?.Tally.FlushTo(counters, Xbzrle);
        writer = null;
        populated = null;
    }

    /// <summary>Creates the cache, or resizes it in place, keeping its shards (and so what it holds).</summary>
    private void PrepareCache(ulong bytes)
    {
        if (cache is not null && cacheRequestedBytes == bytes) return;
        cacheRequestedBytes = bytes;
        int shards = ShardOwnership.ShardsFor(bytes, hostCores ?? Environment.ProcessorCount);
        if (cache is not null && bytes / (ulong)cache.Count >= XbzrlePageCache.SetBytes)
        {
            cache.Resize(bytes);
            return;
        }
        // First use, or a cache too small for its shards: a new one (rare: caches are megabytes).
        DropCache();
        cache = new ShardedXbzrleCache(shards, bytes);
    }

    private void DropCache()
    {
        workers?.Dispose();
        workers = null;
        workersThisPass = false;
        inline = null;
        cache = null;
        cacheRequestedBytes = 0;
    }

    /// <summary>
    /// The migration thread alone, or workers: several threads only without compression (whose pipeline takes the
    /// pages that XBZRLE sends whole, on this thread) and at most one per shard.
    /// </summary>
    private void PrepareXbzrleThreads(EncoderSettings next, long pages)
    {
        workersThisPass = false;
        if (cache is null)
        {
            inline = null;
            return;
        }
        int threads = next.Compress ? 1 : Math.Clamp(next.XbzrleThreads, 1, cache.Count);
        if (threads == 1)
        {
            workers?.Dispose();
            workers = null;
        }
        else if (workers?.Threads != threads)
        {
            workers?.Dispose();
            workers = new XbzrleWorkerPool(threads, memory, cache, counters, Xbzrle);
        }
        workersThisPass = workers is not null && pages >= (long)MinPagesPerWorker * threads;
        // The migration thread's encoder owns every shard: it is used only while the workers are idle.
        inline = workersThisPass ? null : inline ?? new XbzrleShardEncoder(cache, new ShardOwnership(cache.Count, 1), thread: 0);
    }

    private void SendWholeOrCompressed(PageIndex page, ReadOnlySpan<byte> copy)
    {
        if (pipeline is not null && settings!.Compress)
        {
            if (pipeline.Submit(page, copy) == SubmitResult.Queued) return;
        }
        writer!.AppendNormal(page, copy);
        counters.NormalPage();
    }

    /// <summary>Compression results, in submission order, on this (the migration) thread.</summary>
    private void OnCompressed(CompressedPage result)
    {
        if (result.IsCompressed)
        {
            writer!.AppendEncoded(result.Page, PageRecord.KindFor(pipelineConfig.Method), result.Data);
            counters.CompressedPage();
        }
        else
        {
            writer!.AppendNormal(result.Page, result.Data);
            counters.NormalPage();
        }
    }

    public XbzrleCacheStats XbzrleSnapshot() => Xbzrle.Snapshot(CacheBytes);

    public void Dispose()
    {
        pipeline?.Dispose();
        workers?.Dispose();
    }
}
