namespace Tern.Migration.Compression;

/// <summary>Settings of a source-side <see cref="CompressionPipeline"/>; each value is checked when set.</summary>
public sealed record CompressionPipelineOptions
{
    /// <summary>QEMU's default <c>compress-threads</c> is 8; Tern's machines have 2 cores.</summary>
    public const int DefaultWorkers = 2;

    /// <summary>
    /// Pages each worker may hold (queued or finished). The owner sleeps until half a full queue is done, so the depth
    /// sets how often it is woken: 64 pages (256 KiB a worker) beat 16 at every worker count in the pipeline benchmark
    /// (docs/benchmarks.md), one worker going from 1.38x to 1.20x the time of compressing inline.
    /// </summary>
    public const int DefaultQueueDepth = 64;

    private readonly int _workers = DefaultWorkers;
    private readonly int _queueDepth = DefaultQueueDepth;
    private readonly PageCodecOptions _codec = PageCodecOptions.Default;

    public PageCodecOptions Codec { get => _codec; init => _codec = value ?? throw new ArgumentNullException(nameof(Codec)); }

    /// <summary><c>compress-threads</c>: 1 to 64.</summary>
    public int Workers { get => _workers; init => _workers = PipelineOptionChecks.Workers(value, "compress-threads"); }

    /// <summary>A power of two, 1 to 1024.</summary>
    public int QueueDepth { get => _queueDepth; init => _queueDepth = PipelineOptionChecks.QueueDepth(value); }

    public BusyPolicy WhenBusy { get; init; } = BusyPolicy.Wait;
}
