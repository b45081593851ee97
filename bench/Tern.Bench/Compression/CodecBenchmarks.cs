using BenchmarkDotNet.Attributes;
using Tern.Memory;
using Tern.Migration.Compression;

namespace Tern.Bench.Compression;

/// <summary>
/// Single-thread page codec throughput over 256 pages (1 MiB) per operation, with a plain copy of the same pages as
/// the same-run baseline. Random pages do not compress below the threshold, so their Decompress has nothing to do.
/// </summary>
[Config(typeof(ThroughputConfig))]
[BytesPerOperation(Pages * PageSize.Bytes)]
[MemoryDiagnoser]
public class CompressionCodecBenchmarks
{
    private const int Pages = 256;
    private IPageCodec _codec = null!;
    private byte[] _input = null!;
    private byte[] _copy = null!;
    private byte[][] _compressed = null!;
    private readonly byte[] _scratch = new byte[PageSize.Bytes];

    [Params("zstd", "lz4", "zlib")]
    public string Method { get; set; } = "zstd";

    [Params(BenchPages.GuestLike, BenchPages.TextLike, BenchPages.Random)]
    public string Data { get; set; } = BenchPages.GuestLike;

    [GlobalSetup]
    public void Setup()
    {
        _codec = PageCodecFactory.Create(Method, 1);
        _input = BenchPages.Make(Data, Pages);
        _copy = new byte[_input.Length];
        _compressed = new byte[Pages][];
        for (var i = 0; i < Pages; i++)
        {
            var result = _codec.Compress(Page(i), _scratch);
            _compressed[i] = result.IsCompressed ? _scratch[..result.Length] : [];
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _codec.Dispose();

    [Benchmark(Baseline = true)]
    public void Copy() => _input.AsSpan().CopyTo(_copy);

    [Benchmark]
    public int Compress()
    {
        var total = 0;
        for (var i = 0; i < Pages; i++) total += _codec.Compress(Page(i), _scratch).Length;
        return total;
    }

    [Benchmark]
    public int Decompress()
    {
        var ok = 0;
        for (var i = 0; i < Pages; i++)
        {
            if (_compressed[i].Length != 0 && _codec.Decompress(_compressed[i], _scratch).Succeeded) ok++;
        }
        return ok;
    }

    private ReadOnlySpan<byte> Page(int i) => _input.AsSpan(i * PageSize.Bytes, PageSize.Bytes);
}
