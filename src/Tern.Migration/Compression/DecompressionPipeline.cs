using Tern.Memory;

namespace Tern.Migration.Compression;

/// <summary>
/// The destination side: the receive thread submits compressed pages, workers decompress them, and the pages come
/// back to the receive thread's <see cref="DecompressedPageHandler"/> in submission order (which writes them into
/// guest memory), during <see cref="Submit"/>, <see cref="DrainReady"/> or <see cref="Flush"/>.
/// </summary>
/// <remarks>
/// Same threading rules as <see cref="CompressionPipeline"/>. The destination cannot decline a page, so a full worker
/// is always waited for. A page that does not decompress raises <see cref="PageDecompressionException"/> on the
/// receive thread (from the call that reaches its result); the migration cannot go on after it.
/// Flush before acting on anything that must see the pages in guest memory (the end of a pass, switchover, the
/// digest).
/// </remarks>
public sealed class DecompressionPipeline : IDisposable
{
    private readonly PagePipeline _pipeline;

    public DecompressionPipeline(DecompressionPipelineOptions options, DecompressedPageHandler onPage)
        : this(options, () => PageCodecFactory.Create(options.Codec), onPage)
    {
    }

    public DecompressionPipeline(DecompressionPipelineOptions options, Func<IPageCodec> createCodec, DecompressedPageHandler onPage)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(createCodec);
        ArgumentNullException.ThrowIfNull(onPage);
        Options = options;
        var works = PipelineWorks.Create(options.Workers, () => new DecompressPageWork(createCodec()));
        _pipeline = new PagePipeline("decompress", works, options.QueueDepth, new ResultConsumer(onPage));
    }

    public DecompressionPipelineOptions Options { get; }

    public long InFlight => _pipeline.InFlight;

    /// <summary>
    /// Copies one compressed page into the pipeline (waiting while the next worker is full). Input longer than
    /// <see cref="PageCodecLimits.MaxCompressedLength"/> is rejected at once.
    /// </summary>
    public void Submit(PageIndex page, ReadOnlySpan<byte> compressed)
    {
        if (compressed.Length > PageCodecLimits.MaxCompressedLength)
            throw new PageDecompressionException(page, $"a compressed page of {compressed.Length} bytes exceeds the {PageCodecLimits.MaxCompressedLength}-byte limit");
        if (_pipeline.TryQueue(page, compressed)) return;
        _pipeline.WaitForRoom();
        if (!_pipeline.TryQueue(page, compressed)) throw new InvalidOperationException("decompress pipeline: no room after waiting for room");
    }

    public int DrainReady() => _pipeline.DrainReady();

    public void Flush() => _pipeline.Flush();

    public void Dispose() => _pipeline.Dispose();

    private sealed class ResultConsumer(DecompressedPageHandler onPage) : IPageJobConsumer
    {
        public void Consume(PageJob job)
        {
            if (job.Outcome != PageJobOutcome.Decompressed) throw new PageDecompressionException(job.Page, job.Failure ?? "no result");
            onPage(job.Page, job.OutputBytes);
        }
    }
}
