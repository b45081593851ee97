using Tern.Guest;
using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 3: an idle guest migrated over loopback without a bandwidth cap, total time and throughput next to the
/// loopback TCP throughput measured in the same run. Two kinds of idle guest: one whose RAM was never touched (a
/// memfd hole: the first pass skips it, so this measures the engine's fixed costs and hole scan), and one whose RAM
/// was filled first (every page travels whole: this measures the whole path, the link and the destination writing
/// each page into fresh RAM, hence the first-touch baselines next to the loopback one).
/// </summary>
public static class IdleMigrationBenchmark
{
    private const int Vcpus = 2;
    /// <summary>Fresh guest RAM used for the first-touch baselines (large enough to last a fraction of a second).</summary>
    private const ulong BaselineRamBytes = 256UL << 20;

    public static void Run(MacroOptions options, TextWriter output)
    {
        var table = new TextTable("guest", "RAM", "total-time ms", "setup ms", "downtime ms", "sent GiB", "RAM GB/s", "wire GB/s", "loopback GB/s", "wire / loopback", "first-touch GB/s", "populate GB/s");
        foreach (ulong size in options.Sizes)
        {
            foreach (bool filled in new[] { false, true })
            {
                var loopback = new Samples();
                var firstTouch = new Samples();
                var populate = new Samples();
                var total = new Samples();
                var setup = new Samples();
                var downtime = new Samples();
                var sent = new Samples();
                var ramRate = new Samples();
                var wireRate = new Samples();
                for (int r = 0; r < options.Repeat; r++)
                {
                    loopback.Add(LoopbackThroughput.Measure(1, TimeSpan.FromSeconds(1)));
                    firstTouch.Add(FirstTouchThroughput.PageCopies(BaselineRamBytes));
                    populate.Add(FirstTouchThroughput.Populate(BaselineRamBytes));
                    var result = MigrateOnce(size, filled, options.EngineLog);
                    var ram = result.Info.Ram!;
                    double seconds = result.Info.TotalTimeMs!.Value / 1000.0;
                    total.Add(result.Info.TotalTimeMs.Value);
                    setup.Add(result.Info.SetupTimeMs ?? double.NaN);
                    downtime.Add(result.Info.DowntimeMs ?? double.NaN);
                    sent.Add(ram.Transferred / (double)(1L << 30));
                    ramRate.Add(ram.Total / seconds);
                    wireRate.Add(ram.Transferred / seconds);
                    output.WriteLine($"  idle{(filled ? ", RAM filled" : "")} {Units.Gib(size)} run {r + 1}: {result.Info.TotalTimeMs} ms, {ram.Transferred / 1e9:0.000} GB sent, loopback {loopback.Max / 1e9:0.00} GB/s best so far");
                }
                table.Add(filled ? "idle, RAM filled" : "idle", Units.Gib(size), Units.Count(total.Median), Units.Count(setup.Median), Units.Count(downtime.Median),
                    Units.Fixed(sent.Median, 3), Units.GBps(ramRate.Median), Units.GBps(wireRate.Median), Units.GBps(loopback.Median),
                    Units.Ratio(wireRate.Median / loopback.Median), Units.GBps(firstTouch.Median), Units.GBps(populate.Median));
            }
        }
        output.WriteLine();
        output.WriteLine($"Idle guest ({Vcpus} vCPUs, sim backend), loopback, no bandwidth cap; medians of {options.Repeat} runs.");
        output.WriteLine("RAM GB/s = guest RAM size / total-time; wire GB/s = bytes sent / total-time; loopback = one TCP stream pumping 1 MiB buffers.");
        output.WriteLine("first-touch = copying a page into each page of fresh guest RAM (what a destination does as pages arrive); populate = MADV_POPULATE_WRITE of fresh guest RAM.");
        output.WriteLine(table);
    }

    private static MigrationResult MigrateOnce(ulong size, bool filled, Action<string>? log)
    {
        var workload = WorkloadSpec.Parse("idle");
        var machine = SimGuests.Boot(workload.ToString(), size, Vcpus);
        using var migration = new InProcessMigration(machine, SimGuests.Host, log);
        if (filled) RamFill.AboveGuest(machine, workload);
        machine.Resume();
        Thread.Sleep(100);
        migration.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 0 });
        return migration.Run(TimeSpan.FromMinutes(3));
    }
}
