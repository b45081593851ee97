using System.Diagnostics;
using System.Globalization;
using Tern.Bench.Xbzrle;
using Tern.Migration.Xbzrle;

namespace Tern.Bench.Macro;

/// <summary>
/// XBZRLE encoding throughput measured in interleaved rounds: each round runs every method once over the same 64 MiB
/// of page pairs, back to back, and each method's time is divided by the read bound's time in that round. On a shared
/// host whose memory bandwidth moves by a factor of two from minute to minute (a neighbour's use of the L3 cache and
/// memory), these per-round ratios are steady where BenchmarkDotNet's absolute figures, taken one method after
/// another, are not. The absolute GB/s are the medians over rounds.
/// </summary>
public static class XbzrleInterleavedBenchmark
{
    private const int WarmupRounds = 10;

    public static void Run(MacroOptions options, TextWriter output)
    {
        int rounds = Math.Max(options.Repeat, 20);
        output.WriteLine();
        output.WriteLine($"XBZRLE encode, interleaved: {rounds} rounds of {PagePairSet.Pairs} page pairs per method (after {WarmupRounds} warm-up rounds); " +
            $"Tern's start-up choice here: {XbzrleEncoder.Implementation}");
        output.WriteLine("GB/s = page bytes (4096 per pair) per second, median over rounds; \"of bound\" and \"x QEMU\" = median of the per-round time ratios.");
        var table = new TextTable("pattern", "read bound GB/s", "QEMU port GB/s", "Scalar", "Vector256", "Vector512");
        var destination = new byte[4096];
        var scratch = new XbzrleEncoderScratch(); // as the migration's sender keeps one
        foreach (var pattern in Enum.GetValues<PageChangePattern>())
        {
            var pairs = new PagePairSet(pattern);
            var methods = new Func<int>[]
            {
                () => PagePairLoops.ReadBound(pairs),
                () => PagePairLoops.QemuPort(pairs, destination),
                () => PagePairLoops.Tern(pairs, destination, XbzrleImplementation.Scalar, scratch),
                () => PagePairLoops.Tern(pairs, destination, XbzrleImplementation.Vector256, scratch),
                () => PagePairLoops.Tern(pairs, destination, XbzrleImplementation.Vector512, scratch),
            };
            var seconds = methods.Select(_ => new List<double>()).ToArray();
            // The first pattern also waits for the JIT: tiered compilation replaces the encoders' first code (and
            // then their instrumented code) in the background, seconds into the run.
            var warmUntil = Stopwatch.GetTimestamp() + (pattern == 0 ? 5 * Stopwatch.Frequency : 0);
            for (int round = 0; round < WarmupRounds || Stopwatch.GetTimestamp() < warmUntil; round++)
                foreach (var method in methods) method();
            for (int round = 0; round < rounds; round++)
            {
                for (int m = 0; m < methods.Length; m++)
                {
                    long start = Stopwatch.GetTimestamp();
                    methods[m]();
                    seconds[m].Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                }
            }
            table.Add(
                Describe(pattern),
                Gbps(seconds[0]),
                $"{Gbps(seconds[1])} ({Percent(seconds[0], seconds[1])} of bound)",
                Cell(seconds, 2), Cell(seconds, 3), Cell(seconds, 4));
        }
        output.Write(table);
    }

    private static string Cell(List<double>[] seconds, int method) =>
        $"{Gbps(seconds[method])} ({Percent(seconds[0], seconds[method])} of bound, {Times(seconds[1], seconds[method])} QEMU)";

    private static string Gbps(List<double> seconds) =>
        (PagePairSet.Pairs * 4096.0 / Median(seconds) / 1e9).ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Median over rounds of baseline time / method time, as a percentage.</summary>
    private static string Percent(List<double> baseline, List<double> method) =>
        (100 * Median(baseline.Zip(method, (b, m) => b / m).ToList())).ToString("F0", CultureInfo.InvariantCulture) + "%";

    private static string Times(List<double> baseline, List<double> method) =>
        Median(baseline.Zip(method, (b, m) => b / m).ToList()).ToString("F1", CultureInfo.InvariantCulture) + "x";

    private static double Median(List<double> values)
    {
        var sample = new Samples();
        foreach (var v in values) sample.Add(v);
        return sample.Median;
    }

    private static string Describe(PageChangePattern pattern) => pattern switch
    {
        PageChangePattern.OneByte => "1 changed byte",
        PageChangePattern.WordPerKiB => "1 changed word per KiB",
        PageChangePattern.Bytes64 => "64 changed bytes",
        PageChangePattern.Random10Percent => "10% random",
        PageChangePattern.Random50Percent => "50% random",
        PageChangePattern.NewPage => "new page (overflow)",
        _ => pattern.ToString(),
    };
}
