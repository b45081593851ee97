using BenchmarkDotNet.Attributes;
using Tern.Bench.Compression;
using Tern.Memory;
using Tern.Migration.Pages;
using Tern.Os.Native;

namespace Tern.Bench.Pages;

/// <summary>
/// XXH3-64 over 16 MiB of memory (XXH3 speed does not depend on content): one-shot, the RAM digest's single-call DigestRange, and page by page
/// (AddPage, as a source hashing the copies it sends). Baseline: copying the same 16 MiB (memory bandwidth).
/// </summary>
[Config(typeof(ThroughputConfig))]
[BytesPerOperation(Pages * PageSize.Bytes)]
public class RamDigestBenchmarks
{
    private const int Pages = 4096;
    private byte[] _ram = null!;
    private byte[] _copy = null!;
    private RamDigest _digest = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ram = BenchPages.Make(BenchPages.Random, Pages, seed: 4);
        _copy = new byte[_ram.Length];
        _digest = new RamDigest();
    }

    [GlobalCleanup]
    public void Cleanup() => _digest.Dispose();

    [Benchmark(Baseline = true)]
    public void Copy() => _ram.AsSpan().CopyTo(_copy);

    [Benchmark]
    public ulong XxHash3OneShot() => XxHash3.Hash64(_ram);

    [Benchmark]
    public ulong DigestRange()
    {
        _digest.Reset();
        _digest.DigestRange(new PageIndex(0), _ram);
        return _digest.Value;
    }

    [Benchmark]
    public ulong PageByPage()
    {
        _digest.Reset();
        for (var i = 0; i < Pages; i++) _digest.AddPage(new PageIndex((ulong)i), _ram.AsSpan(i * PageSize.Bytes, PageSize.Bytes));
        return _digest.Value;
    }
}
