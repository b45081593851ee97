using BenchmarkDotNet.Attributes;
using Tern.Migration.Xbzrle;

namespace Tern.Bench.Xbzrle;

/// <summary>
/// Encoding throughput over 64 MiB of page pairs (one operation = one 4096-byte page). The baseline is a plain port
/// of QEMU's loop; "MemoryReadBound" only reads both pages, the floor for any encoder.
/// </summary>
[Config(typeof(XbzrleBenchConfig))]
public class XbzrleEncodeBenchmarks
{
    private const int Pages = PagePairSet.Pairs;
    private PagePairSet _pairs = null!;
    private readonly byte[] _destination = new byte[4096];

    [Params(PageChangePattern.OneByte, PageChangePattern.WordPerKiB, PageChangePattern.Bytes64,
        PageChangePattern.Random10Percent, PageChangePattern.Random50Percent, PageChangePattern.NewPage)]
    public PageChangePattern Pattern { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pairs = new PagePairSet(Pattern);
        // Benchmarks that measure a wrong encoder measure nothing: check Tern against the QEMU port first.
        var expected = new byte[4096];
        for (int p = 0; p < Pages; p += 7)
        {
            int qemu = QemuPortEncoder.Encode(_pairs.OldPage(p), _pairs.NewPage(p), expected);
            foreach (var implementation in Enum.GetValues<XbzrleImplementation>())
            {
                var result = XbzrleEncoder.Encode(_pairs.OldPage(p), _pairs.NewPage(p), _destination, implementation);
                if (result.ToQemuReturnValue() != qemu || (qemu > 0 && !_destination.AsSpan(0, qemu).SequenceEqual(expected.AsSpan(0, qemu))))
                    throw new InvalidOperationException($"{implementation} disagrees with the QEMU port on pair {p} ({Pattern})");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Pages)]
    public int QemuPort() => PagePairLoops.QemuPort(_pairs, _destination);

    [Benchmark(OperationsPerInvoke = Pages)]
    public int TernScalar() => EncodeAll(XbzrleImplementation.Scalar);

    [Benchmark(OperationsPerInvoke = Pages)]
    public int TernVector256() => EncodeAll(XbzrleImplementation.Vector256);

    /// <summary>Emulated in software where AVX-512 is absent: read it only on hardware that has it.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public int TernVector512() => EncodeAll(XbzrleImplementation.Vector512);

    [Benchmark(OperationsPerInvoke = Pages)]
    public int MemoryReadBound() => PagePairLoops.ReadBound(_pairs);

    private readonly XbzrleEncoderScratch _scratch = new(); // as the migration's sender keeps one

    private int EncodeAll(XbzrleImplementation implementation) => PagePairLoops.Tern(_pairs, _destination, implementation, _scratch);
}
