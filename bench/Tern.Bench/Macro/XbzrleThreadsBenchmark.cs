using System.Diagnostics;
using System.Globalization;
using Tern.Bench.Xbzrle;
using Tern.Memory;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;

namespace Tern.Bench.Macro;

/// <summary>
/// The engine's XBZRLE encoding (<see cref="SourcePageEncoder"/>: zero check, copy out of guest RAM, cache lookup,
/// delta, cache update, batches queued on a channel writer that frames them and writes them to a null stream) on one
/// thread and on two, in interleaved rounds with the read bound of the same pages, as the encode benchmark measures:
/// on a shared host the per-round ratios are steadier than absolute figures. Every page of 32 MiB of guest RAM is
/// dirty in every pass and cached: each pass sends every page as a delta against the version the pass before sent
/// (the pattern's change, forwards and back), so this is the encoding's throughput, not the link's.
/// </summary>
public static class XbzrleThreadsBenchmark
{
    private const int WarmupRounds = 3;
    private static readonly int[] ThreadCounts = [1, 2];
    private static readonly PageChangePattern[] Patterns = [PageChangePattern.WordPerKiB, PageChangePattern.Random10Percent];

    public static void Run(MacroOptions options, TextWriter output)
    {
        int rounds = Math.Max(options.Repeat, 10);
        output.WriteLine();
        output.WriteLine($"XBZRLE encoding in the engine on 1 and 2 threads: {rounds} interleaved rounds of a {PagePairSet.Pairs}-page pass " +
            $"(32 MiB, every page a cache hit); {Environment.ProcessorCount} cores; load average {LoadAverage()}");
        output.WriteLine("GB/s = page bytes (4096 per page) per second, median over rounds; \"of bound\" and \"x 1 thread\" = median of the per-round time ratios;");
        output.WriteLine("\"cores\" = the process's CPU time over the pass's wall time, median (what the threads got of the host's cores).");
        var table = new TextTable(["pattern", "read bound GB/s", .. ThreadCounts.Select(t => $"{t} thread{(t > 1 ? "s" : "")}"), "bytes/page on the wire"]);
        foreach (var pattern in Patterns)
        {
            var pairs = new PagePairSet(pattern);
            using var rig = new EncodingRig(pairs, ThreadCounts);
            var seconds = new List<double>[ThreadCounts.Length + 1];
            var cores = new List<double>[ThreadCounts.Length];
            for (int m = 0; m < seconds.Length; m++) seconds[m] = [];
            for (int m = 0; m < cores.Length; m++) cores[m] = [];
            for (int round = -WarmupRounds; round < rounds; round++)
            {
                rig.SetRam(newVersion: (round & 1) == 0);
                long start = Stopwatch.GetTimestamp();
                PagePairLoops.ReadBound(pairs);
                double bound = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (round >= 0) seconds[0].Add(bound);
                for (int t = 0; t < ThreadCounts.Length; t++)
                {
                    var cpuBefore = ProcessCpu();
                    double s = rig.Pass(t);
                    double cpu = (ProcessCpu() - cpuBefore).TotalSeconds;
                    if (round >= 0)
                    {
                        seconds[t + 1].Add(s);
                        cores[t].Add(cpu / s);
                    }
                }
            }
            var cells = new List<string> { Describe(pattern), Gbps(seconds[0]) };
            for (int t = 0; t < ThreadCounts.Length; t++)
                cells.Add($"{Gbps(seconds[t + 1])} ({Percent(seconds[0], seconds[t + 1])} of bound, {Times(seconds[1], seconds[t + 1])} 1 thread, " +
                    $"{Median(cores[t]).ToString("F2", CultureInfo.InvariantCulture)} cores)");
            cells.Add(rig.WireBytesPerPage.ToString("F0", CultureInfo.InvariantCulture));
            table.Add([.. cells]);
        }
        output.Write(table);
        output.WriteLine($"load average at the end {LoadAverage()}");
    }

    /// <summary>Guest RAM holding one page of each pair, one encoder per thread count (each with its own cache, primed), and a null channel.</summary>
    private sealed class EncodingRig : IDisposable
    {
        private readonly PagePairSet pairs;
        private readonly GuestRam ram = GuestRam.Create((ulong)PagePairSet.Pairs * PageSize.Bytes);
        private readonly RamCounters counters = new((ulong)PagePairSet.Pairs * PageSize.Bytes);
        private readonly CancellationTokenSource cancel = new();
        private readonly ChannelWriter channel;
        private readonly SourcePageEncoder[] encoders;
        private readonly int[] threads;
        private readonly uint[] passes;
        private long xbzrleBytes, xbzrlePages;

        public EncodingRig(PagePairSet pairs, int[] threadCounts)
        {
            this.pairs = pairs;
            threads = threadCounts;
            channel = new ChannelWriter(0, new FrameConnection(Stream.Null, "null"), new BandwidthLimiter(0), counters, cancel.Token,
                e => Console.Error.WriteLine($"channel failed: {e.Message}"));
            encoders = threadCounts.Select(_ => new SourcePageEncoder(ram, counters, Environment.ProcessorCount)).ToArray();
            passes = threadCounts.Select(_ => 1u).ToArray();
            // Prime every cache with the old pages: a pass after the first caches the pages it misses.
            SetRam(newVersion: false);
            for (int t = 0; t < encoders.Length; t++) Pass(t);
        }

        public double WireBytesPerPage => xbzrlePages == 0 ? 0 : (double)xbzrleBytes / xbzrlePages;

        public void SetRam(bool newVersion)
        {
            for (int p = 0; p < PagePairSet.Pairs; p++)
                (newVersion ? pairs.NewPage(p) : pairs.OldPage(p)).CopyTo(ram.GetPageSpan(new PageIndex((ulong)p)));
        }

        /// <summary>Sends every page as a pass of encoder <paramref name="t"/> and returns the seconds until the channel wrote it all.</summary>
        public double Pass(int t)
        {
            uint pass = ++passes[t];
            var channels = new[] { channel };
            var writer = new PassWriter(pass, channels, 1);
            var settings = new EncoderSettings(pass, Xbzrle: true, 64UL << 20, Compress: false, "zstd", 1, 1, threads[t]);
            var encoder = encoders[t];
            long bytesBefore = encoder.Xbzrle.Bytes, pagesBefore = encoder.Xbzrle.Pages;
            long start = Stopwatch.GetTimestamp();
            encoder.BeginPass(writer, settings, null, w => new PassWriter(pass, channels, 1), cancel.Token);
            for (int p = 0; p < PagePairSet.Pairs; p++) encoder.Encode(new PageIndex((ulong)p));
            encoder.EndPass();
            writer.Finish();
            channel.WaitUntilSent();
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (pass > 2 && encoder.XbzrleThreads != threads[t])
                throw new InvalidOperationException($"the encoder ran {encoder.XbzrleThreads} threads, not {threads[t]}");
            xbzrleBytes += encoder.Xbzrle.Bytes - bytesBefore;
            xbzrlePages += encoder.Xbzrle.Pages - pagesBefore;
            return seconds;
        }

        public void Dispose()
        {
            foreach (var e in encoders) e.Dispose();
            channel.Dispose();
            cancel.Dispose();
            ram.Dispose();
        }
    }

    private static TimeSpan ProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static string Gbps(List<double> seconds) =>
        (PagePairSet.Pairs * 4096.0 / Median(seconds) / 1e9).ToString("F2", CultureInfo.InvariantCulture);

    private static string Percent(List<double> baseline, List<double> method) =>
        (100 * Median(baseline.Zip(method, (b, m) => b / m).ToList())).ToString("F0", CultureInfo.InvariantCulture) + "%";

    private static string Times(List<double> baseline, List<double> method) =>
        Median(baseline.Zip(method, (b, m) => b / m).ToList()).ToString("F2", CultureInfo.InvariantCulture) + "x";

    private static double Median(List<double> values)
    {
        var sample = new Samples();
        foreach (var v in values) sample.Add(v);
        return sample.Median;
    }

    private static string Describe(PageChangePattern pattern) => pattern switch
    {
        PageChangePattern.WordPerKiB => "1 changed word per KiB",
        PageChangePattern.Random10Percent => "10% random",
        _ => pattern.ToString(),
    };
}
