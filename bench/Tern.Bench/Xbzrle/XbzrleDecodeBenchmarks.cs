using BenchmarkDotNet.Attributes;
using Tern.Migration.Xbzrle;

namespace Tern.Bench.Xbzrle;

/// <summary>
/// Decoding throughput over 64 MiB of pages (one operation = one 4096-byte page): each pair's encoding applied to
/// its old page. Applying an encoding again to the page it produced changes nothing, so the loop can repeat.
/// Only patterns that encode are measured. The baseline is a plain port of QEMU's decoder; "CopyBound" only copies
/// each encoding into its page, a floor for any decoder.
/// </summary>
[Config(typeof(XbzrleBenchConfig))]
public class XbzrleDecodeBenchmarks
{
    private const int Pages = PagePairSet.Pairs;
    private PagePairSet _pairs = null!;
    private byte[] _encoded = null!;
    private int[] _lengths = null!;

    [Params(PageChangePattern.OneByte, PageChangePattern.WordPerKiB, PageChangePattern.Bytes64, PageChangePattern.Random10Percent)]
    public PageChangePattern Pattern { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pairs = new PagePairSet(Pattern);
        _encoded = new byte[Pages * 4096];
        _lengths = new int[Pages];
        for (int p = 0; p < Pages; p++)
        {
            var result = XbzrleEncoder.Encode(_pairs.OldPage(p), _pairs.NewPage(p), _encoded.AsSpan(p * 4096, 4096));
            if (result.Status != XbzrleEncodeStatus.Encoded) throw new InvalidOperationException($"pair {p} of {Pattern} does not encode: {result}");
            _lengths[p] = result.Length;
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Pages)]
    public int QemuPort()
    {
        int total = 0;
        for (int p = 0; p < Pages; p++)
            total += QemuPortDecoder.Decode(_encoded.AsSpan(p * 4096, _lengths[p]), _pairs.WritableOldPage(p));
        return total;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public int Tern()
    {
        int total = 0;
        for (int p = 0; p < Pages; p++)
            total += XbzrleDecoder.Decode(_encoded.AsSpan(p * 4096, _lengths[p]), _pairs.WritableOldPage(p)).PageOffset;
        return total;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public int CopyBound()
    {
        // Reads each encoding and writes as many bytes: what a decoder costs at the very least.
        for (int p = 0; p < Pages; p++) _encoded.AsSpan(p * 4096, _lengths[p]).CopyTo(_pairs.WritableNewPage(p));
        return Pages;
    }
}
