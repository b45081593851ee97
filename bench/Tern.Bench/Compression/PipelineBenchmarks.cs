using BenchmarkDotNet.Attributes;
using Tern.Memory;
using Tern.Migration.Compression;

namespace Tern.Bench.Compression;

/// <summary>
/// Pipeline throughput (zstd level 1, guest-like and text-like pages alternating) for 1, 2 and 4 workers: submit
/// 4096 pages (16 MiB) and flush, the handler only summing lengths. Baseline: the same pages compressed on the calling
/// thread without a pipeline. The benchmark machine has 2 cores, and the submitting thread needs one of them.
/// </summary>
[Config(typeof(ThroughputConfig))]
[BytesPerOperation(Pages * PageSize.Bytes)]
[MemoryDiagnoser]
public class CompressionPipelineBenchmarks
{
    private const int Pages = 4096;
    private byte[] _input = null!;
    private IPageCodec _codec = null!;
    private CompressionPipeline _pipeline = null!;
    private readonly byte[] _scratch = new byte[PageSize.Bytes];
    private long _bytesOut;

    [Params(1, 2, 4)]
    public int Workers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var guest = BenchPages.Make(BenchPages.GuestLike, Pages / 2, seed: 2);
        var text = BenchPages.Make(BenchPages.TextLike, Pages / 2, seed: 3);
        _input = new byte[Pages * PageSize.Bytes];
        for (var i = 0; i < Pages / 2; i++)
        {
            guest.AsSpan(i * PageSize.Bytes, PageSize.Bytes).CopyTo(_input.AsSpan(2 * i * PageSize.Bytes));
            text.AsSpan(i * PageSize.Bytes, PageSize.Bytes).CopyTo(_input.AsSpan((2 * i + 1) * PageSize.Bytes));
        }
        _codec = PageCodecFactory.Create("zstd", 1);
        _pipeline = new CompressionPipeline(new CompressionPipelineOptions { Workers = Workers }, page => _bytesOut += page.Data.Length);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pipeline.Dispose();
        _codec.Dispose();
    }

    [Benchmark(Baseline = true)]
    public long CallingThreadOnly()
    {
        long total = 0;
        for (var i = 0; i < Pages; i++)
        {
            var result = _codec.Compress(_input.AsSpan(i * PageSize.Bytes, PageSize.Bytes), _scratch);
            total += result.IsCompressed ? result.Length : PageSize.Bytes;
        }
        return total;
    }

    [Benchmark]
    public long Pipeline()
    {
        _bytesOut = 0;
        for (var i = 0; i < Pages; i++) _pipeline.Submit(new PageIndex((ulong)i), _input.AsSpan(i * PageSize.Bytes, PageSize.Bytes));
        _pipeline.Flush();
        return _bytesOut;
    }
}
