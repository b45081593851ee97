using Tern.Guest;
using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 4: migration throughput with 1, 2 and 4 page channels (multifd) for an idle guest whose RAM was filled,
/// each next to loopback TCP pumped over as many parallel connections in the same run.
/// </summary>
public static class ChannelMigrationBenchmark
{
    private const int Vcpus = 2;
    private static readonly int[] ChannelCounts = [1, 2, 4];

    public static void Run(MacroOptions options, TextWriter output)
    {
        ulong size = options.Sizes.Min();
        var table = new TextTable("channels", "total-time ms", "sent GiB", "wire GB/s", "vs 1 channel", "loopback GB/s (same streams)", "wire / loopback");
        double oneChannel = double.NaN;
        foreach (int channels in ChannelCounts)
        {
            var loopback = new Samples();
            var total = new Samples();
            var sent = new Samples();
            var wireRate = new Samples();
            for (int r = 0; r < options.Repeat; r++)
            {
                loopback.Add(LoopbackThroughput.Measure(channels, TimeSpan.FromSeconds(1)));
                var result = MigrateOnce(size, channels, options.EngineLog);
                var info = result.Info;
                if (info.Channels != channels) throw new InvalidOperationException($"asked for {channels} channels, the migration used {info.Channels}");
                double seconds = info.TotalTimeMs!.Value / 1000.0;
                total.Add(info.TotalTimeMs.Value);
                sent.Add(info.Ram!.Transferred / (double)(1L << 30));
                wireRate.Add(info.Ram.Transferred / seconds);
                output.WriteLine($"  {channels} channel(s) run {r + 1}: {info.TotalTimeMs} ms, per channel GB: {string.Join(" ", info.ChannelBytes!.Select(b => (b / 1e9).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}");
            }
            if (channels == 1) oneChannel = wireRate.Median;
            table.Add(channels.ToString(System.Globalization.CultureInfo.InvariantCulture), Units.Count(total.Median), Units.Fixed(sent.Median, 3),
                Units.GBps(wireRate.Median), Units.Ratio(wireRate.Median / oneChannel), Units.GBps(loopback.Median), Units.Ratio(wireRate.Median / loopback.Median));
        }
        output.WriteLine();
        output.WriteLine($"Page channels (multifd): idle {Units.Gib(size)} guest with its RAM filled, {Vcpus} vCPUs, sim backend, no bandwidth cap; medians of {options.Repeat} runs.");
        output.WriteLine(table);
    }

    private static MigrationResult MigrateOnce(ulong size, int channels, Action<string>? log)
    {
        var workload = WorkloadSpec.Parse("idle");
        var machine = SimGuests.Boot(workload.ToString(), size, Vcpus);
        using var migration = new InProcessMigration(machine, SimGuests.Host, log);
        RamFill.AboveGuest(machine, workload);
        machine.Resume();
        Thread.Sleep(100);
        migration.Settings.SetCapability(MigrationCapability.Multifd, true);
        migration.Settings.SetParameters(new MigrationParameters { MultifdChannels = channels });
        return migration.Run(TimeSpan.FromMinutes(3));
    }
}
