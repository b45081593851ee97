using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Api;
using Tern.Migration.Compression;
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
/// </summary>
internal sealed class SourcePageEncoder(IGuestMemory memory, RamCounters counters) : IDisposable
{
    // Page-aligned, as guest RAM and the XBZRLE cache are: the encoder's vector loads then never straddle cache lines.
    private readonly PageArray copyPage = new(1);
    private readonly XbzrleEncoderScratch encoderScratch = new();
    private readonly byte[] delta = new byte[PageSize.Bytes];
    private PassWriter? writer;
    private EncoderSettings? settings;
    private XbzrlePageCache? cache;
    private CompressionPipeline? pipeline;
    private (string Method, int Level, int Threads) pipelineConfig;

    public XbzrleCounters Xbzrle { get; } = new();

    /// <summary>The cache's size now (0 when XBZRLE has not run).</summary>
    public ulong CacheBytes => cache?.CapacityBytes ?? 0;

    /// <summary>Host memory the cache's storage holds now (it fills lazily, so this grows up to <see cref="CacheBytes"/>).</summary>
    public ulong CacheHeldBytes => cache?.AllocatedBytes ?? 0;

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
    public void BeginPass(PassWriter passWriter, EncoderSettings next, DirtyBitmap? populatedPages = null)
    {
        writer = passWriter;
        populated = populatedPages;
        settings = next;
        if (next.Xbzrle && next.XbzrleCacheBytes > 0)
        {
            if (cache is null) cache = new XbzrlePageCache(next.XbzrleCacheBytes);
            else if (cache.CapacityBytes != next.XbzrleCacheBytes) cache.Resize(next.XbzrleCacheBytes);
        }
        else if (cache is not null && !next.Xbzrle)
        {
            // Off: drop the cache and give its memory back; switching on again starts from empty.
            cache = null;
        }
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
        var live = memory.GetSpan(page.Address, PageSize.Bytes);
        if (ZeroPage.IsZero(live))
        {
            w.AppendZero(page);
            counters.ZeroPage();
            cache?.Invalidate(page);
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
        if (cache is not null && TrySendDelta(page, copy)) return;
        SendWholeOrCompressed(page, copy);
    }

    /// <summary>Hands back pages still being compressed; call before the pass ends.</summary>
    public void EndPass()
    {
        pipeline?.Flush();
        writer = null;
        populated = null;
    }

    /// <summary>XBZRLE: true when the page is dealt with (sent as a delta, or unchanged and skipped).</summary>
    private bool TrySendDelta(PageIndex page, ReadOnlySpan<byte> copy)
    {
        ulong generation = settings!.Pass;
        if (cache!.TryGet(page, generation, out var old))
        {
            Xbzrle.RecordHit();
            var result = XbzrleEncoder.Encode(old, copy, delta, encoderScratch);
            switch (result.Status)
            {
                case XbzrleEncodeStatus.Unchanged:
                    // The destination already holds exactly this: nothing to send.
                    counters.SkippedPage();
                    return true;
                case XbzrleEncodeStatus.Encoded:
                    writer!.AppendEncoded(page, PageRecordKind.Xbzrle, delta.AsSpan(0, result.Length));
                    Xbzrle.RecordEncodedPage(result.Length + XbzrleCounters.QemuHeaderBytes);
                    counters.XbzrlePage();
                    cache.Update(page, copy, generation);
                    return true;
                default:
                    Xbzrle.RecordOverflow();
                    cache.Update(page, copy, generation);
                    return false;
            }
        }
        Xbzrle.RecordMiss();
        // A page sent again after the first pass is one the guest keeps dirtying: remember this version.
        if (generation > 1) cache.Insert(page, copy, generation);
        return false;
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

    public void Dispose() => pipeline?.Dispose();
}
