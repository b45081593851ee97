namespace Tern.Migration.Compression;

/// <summary>Settings of a destination-side <see cref="DecompressionPipeline"/>; each value is checked when set.</summary>
public sealed record DecompressionPipelineOptions
{
    private readonly int _workers = CompressionPipelineOptions.DefaultWorkers;
    private readonly int _queueDepth = CompressionPipelineOptions.DefaultQueueDepth;
    private readonly PageCodecOptions _codec = PageCodecOptions.Default;

    /// <summary>The codec the source uses (the level does not matter for decompression).</summary>
    public PageCodecOptions Codec { get => _codec; init => _codec = value ?? throw new ArgumentNullException(nameof(Codec)); }

    /// <summary><c>decompress-threads</c>: 1 to 64.</summary>
    public int Workers { get => _workers; init => _workers = PipelineOptionChecks.Workers(value, "decompress-threads"); }

    /// <summary>A power of two, 1 to 1024.</summary>
    public int QueueDepth { get => _queueDepth; init => _queueDepth = PipelineOptionChecks.QueueDepth(value); }
}
