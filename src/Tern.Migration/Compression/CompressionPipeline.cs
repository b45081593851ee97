using System.Diagnostics.CodeAnalysis;
using Tern.Memory;

namespace Tern.Migration.Compression;

/// <summary>
/// The source side of multithreaded page compression: the migration thread submits pages, worker threads compress
/// them, and the results come back to the migration thread's <see cref="CompressedPageHandler"/> in submission
/// order, during <see cref="Submit"/>, <see cref="DrainReady"/> or <see cref="Flush"/>. See <see cref="PagePipeline"/>
/// for the lockless model.
/// </summary>
/// <remarks>
/// All methods must be called from one thread at a time (the migration thread), and the handler must not call back
/// into the pipeline. Call <see cref="Flush"/> before a pass boundary (before the next dirty-log sync is acted on)
/// so that a page's older copy can never overtake its newer one. Zero pages should be detected before submission
/// (<see cref="Pages.ZeroPage"/>): they need no compression.
/// </remarks>
public sealed class CompressionPipeline : IDisposable
{
    private readonly PagePipeline _pipeline;

    /// <summary>
    /// Creates the workers, each with its own codec made from <see cref="CompressionPipelineOptions.Codec"/>.
    /// <paramref name="counters"/>: counters to add to, so that a migration that replaces its pipeline (a new
    /// method, level or thread count) keeps counting from where it was, as QEMU's counters are cumulative over the
    /// migration; new ones when null. They must not be shared by two pipelines alive at once (one writer).
    /// </summary>
    public CompressionPipeline(CompressionPipelineOptions options, CompressedPageHandler onPage, CompressionCounters? counters = null)
        : this(options, () => PageCodecFactory.Create(options.Codec), onPage, counters)
    {
    }

    /// <summary>Creates the workers with codecs from <paramref name="createCodec"/> (called once per worker, here).</summary>
    public CompressionPipeline(CompressionPipelineOptions options, Func<IPageCodec> createCodec, CompressedPageHandler onPage, CompressionCounters? counters = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(createCodec);
        ArgumentNullException.ThrowIfNull(onPage);
        Options = options;
        Counters = counters ?? new CompressionCounters();
        var works = PipelineWorks.Create(options.Workers, () => new CompressPageWork(createCodec()));
        _pipeline = new PagePipeline("compress", works, options.QueueDepth, new ResultConsumer(onPage, Counters));
    }

    public CompressionPipelineOptions Options { get; }

    public CompressionCounters Counters { get; }

    /// <summary>Pages submitted whose result has not reached the handler yet.</summary>
    public long InFlight => _pipeline.InFlight;

    /// <summary>
    /// Copies a page (exactly 4096 bytes) into the pipeline, first handing ready results to the handler. When the next
    /// worker is full this counts as busy and, per <see cref="CompressionPipelineOptions.WhenBusy"/>, either waits or
    /// returns <see cref="SubmitResult.Busy"/> without taking the page.
    /// </summary>
    public SubmitResult Submit(PageIndex page, ReadOnlySpan<byte> contents)
    {
        if (contents.Length != PageSize.Bytes) ThrowPageLength(contents.Length);
        Counters.RecordOffered();
        if (_pipeline.TryQueue(page, contents)) return SubmitResult.Queued;
        Counters.RecordBusy();
        if (Options.WhenBusy == BusyPolicy.SendUncompressed) return SubmitResult.Busy;
        _pipeline.WaitForRoom();
        if (!_pipeline.TryQueue(page, contents)) throw new InvalidOperationException("compress pipeline: no room after waiting for room");
        return SubmitResult.Queued;
    }

    /// <summary>Hands every result that is ready to the handler without waiting; returns how many.</summary>
    public int DrainReady() => _pipeline.DrainReady();

    /// <summary>Waits until every submitted page has reached the handler.</summary>
    public void Flush() => _pipeline.Flush();

    /// <summary>Stops and joins the workers; pages still in flight are dropped.</summary>
    public void Dispose() => _pipeline.Dispose();

    [DoesNotReturn]
    private static void ThrowPageLength(int length) =>
        throw new ArgumentException($"a page to compress must be exactly {PageSize.Bytes} bytes, not {length}");

    private sealed class ResultConsumer(CompressedPageHandler onPage, CompressionCounters counters) : IPageJobConsumer
    {
        public void Consume(PageJob job)
        {
            if (job.Outcome == PageJobOutcome.Compressed)
            {
                counters.RecordCompressed(job.OutputLength);
                onPage(new CompressedPage(job.Page, isCompressed: true, job.OutputBytes, job.InputBytes));
            }
            else
            {
                counters.RecordSentWhole();
                onPage(new CompressedPage(job.Page, isCompressed: false, job.InputBytes, job.InputBytes));
            }
        }
    }
}
