using System.Globalization;
using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 3: a guest that dirties memory below the bandwidth cap (max-bandwidth set, a seq or random workload whose
/// rate= keeps it under): how many passes the migration needs and how long the guest is stopped.
/// </summary>
public static class DirtyingMigrationBenchmark
{
    private const ulong Memory = 1UL << 30;
    private const int Vcpus = 2;
    private const int CapMiBPerSecond = 256;
    private const string WorkingSet = "256M";
    /// <summary>Per vCPU (the cap applies to each vCPU), so the guest dirties twice this.</summary>
    private static readonly int[] RatesPerVcpu = [32, 96];

    public static void Run(MacroOptions options, TextWriter output)
    {
        var table = new TextTable("workload", "guest dirties MiB/s", "cap MiB/s", "live passes", "dirty-sync-count", "downtime ms", "guest-seen downtime ms", "total-time ms", "sent MiB");
        foreach (string kind in new[] { "seq", "random" })
        {
            foreach (int rate in RatesPerVcpu)
            {
                string workload = $"{kind}:ws={WorkingSet},rate={rate}";
                var passes = new Samples();
                var syncs = new Samples();
                var downtime = new Samples();
                var guestDowntime = new Samples();
                var total = new Samples();
                var sent = new Samples();
                for (int r = 0; r < options.Repeat; r++)
                {
                    var result = MigrateOnce(workload, options.EngineLog);
                    var info = result.Info;
                    passes.Add(result.LivePasses);
                    syncs.Add(info.Ram!.DirtySyncCount);
                    downtime.Add(info.DowntimeMs ?? double.NaN);
                    guestDowntime.Add(info.GuestDowntimeMs ?? double.NaN);
                    total.Add(info.TotalTimeMs!.Value);
                    sent.Add(info.Ram.Transferred / (double)(1 << 20));
                    output.WriteLine($"  {workload} run {r + 1}: {result.LivePasses} live passes, downtime {info.DowntimeMs} ms (guest saw {info.GuestDowntimeMs} ms), {info.TotalTimeMs} ms in all");
                }
                table.Add(workload, (rate * Vcpus).ToString(CultureInfo.InvariantCulture), CapMiBPerSecond.ToString(CultureInfo.InvariantCulture),
                    Units.Fixed(passes.Median, 0), Units.Fixed(syncs.Median, 0), Units.Count(downtime.Median), Units.Count(guestDowntime.Median),
                    Units.Count(total.Median), Units.Count(sent.Median));
            }
        }
        output.WriteLine();
        output.WriteLine($"Dirtying guest below the cap: {Units.Gib(Memory)}, {Vcpus} vCPUs (rate= is per vCPU), sim backend, max-bandwidth {CapMiBPerSecond} MiB/s, " +
            $"downtime-limit {MigrationParameters.DefaultDowntimeLimitMs} ms; medians of {options.Repeat} runs.");
        output.WriteLine("Live passes: passes sent while the guest ran, before the stop-and-copy; downtime: as the engine measured it (QEMU's downtime); guest-seen: the longest heartbeat gap.");
        output.WriteLine(table);
    }

    private static MigrationResult MigrateOnce(string workload, Action<string>? log)
    {
        var machine = SimGuests.Boot(workload, Memory, Vcpus);
        using var migration = new InProcessMigration(machine, SimGuests.Host, log);
        machine.Resume();
        // Let the guest run for a second first: the migration starts on a guest in its steady state.
        Thread.Sleep(1000);
        migration.Settings.SetParameters(new MigrationParameters { MaxBandwidth = CapMiBPerSecond << 20 });
        return migration.Run(TimeSpan.FromMinutes(3));
    }
}
