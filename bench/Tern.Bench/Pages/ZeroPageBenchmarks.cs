using BenchmarkDotNet.Attributes;
using Tern.Bench.Compression;
using Tern.Memory;
using Tern.Migration.Pages;

namespace Tern.Bench.Pages;

/// <summary>
/// Zero-page check of one page: the selected path and each explicit path against the scalar baseline, plus the
/// runtime's own <c>IndexOfAnyExcept</c>. "zero" scans the whole page (the worst case); "last-byte" differs only in its
/// final byte; "first-line" in its first 64 bytes (the common non-zero page).
/// </summary>
[Config(typeof(ThroughputConfig))]
[BytesPerOperation(PageSize.Bytes)]
public class ZeroPageBenchmarks
{
    private byte[] _page = null!;

    [Params("zero", "last-byte", "first-line")]
    public string Content { get; set; } = "zero";

    [GlobalSetup]
    public void Setup()
    {
        _page = new byte[PageSize.Bytes];
        if (Content == "last-byte") _page[^1] = 1;
        if (Content == "first-line") _page[40] = 1;
    }

    [Benchmark(Baseline = true)]
    public bool Scalar() => ZeroPage.IsZeroScalar(_page);

    [Benchmark]
    public bool Selected() => ZeroPage.IsZero(_page);

    [Benchmark]
    public bool Vector256Path() => ZeroPage.IsZeroVector256(_page);

    [Benchmark]
    public bool Vector512Path() => ZeroPage.IsZeroVector512(_page);

    [Benchmark]
    public bool IndexOfAnyExcept() => _page.AsSpan().IndexOfAnyExcept((byte)0) < 0;
}
