using System.Globalization;
using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 12, item 1: where the switchover's downtime goes on real KVM. Migrates an idle guest and dirtying ones
/// (stride at 1 GiB/s, plain and with XBZRLE; seq with XBZRLE at 100 MiB/s) over loopback and reports, per scenario,
/// the median of each step of <c>x-switchover</c> next to the downtime the engine measured and the one the guest saw
/// (its longest heartbeat gap). Scenarios interleave in rounds, so that a change in the host's load touches all alike.
/// </summary>
public static class SwitchoverBenchmark
{
    private sealed record Scenario(string Name, string Workload, ulong BandwidthBytesPerSecond, bool Xbzrle, TimeSpan WarmUp);

    private static readonly Scenario[] Scenarios =
    [
        new("idle", "idle", 0, false, TimeSpan.FromMilliseconds(300)),
        new("stride 1 GiB/s", "stride", 1UL << 30, false, TimeSpan.FromSeconds(1)),
        new("stride 1 GiB/s XBZRLE", "stride", 1UL << 30, true, TimeSpan.FromSeconds(1)),
        new("seq:ws=512M 100 MiB/s XBZRLE", "seq:ws=512M", 100UL << 20, true, TimeSpan.FromSeconds(2)),
    ];

    private const ulong Memory = 1UL << 30;

    public static void Run(MacroOptions options, TextWriter output)
    {
        if (MachineBackendChoice.KvmLog.Unavailable is { } why)
        {
            output.WriteLine($"switchover: skipped ({why})");
            return;
        }
        // --only picks scenarios by a word of their name (idle, stride, XBZRLE, seq).
        var scenarios = Scenarios.Where(s => options.Only is null || s.Name.Contains(options.Only, StringComparison.OrdinalIgnoreCase)).ToArray();
        var steps = Enum.GetValues<SwitchoverStep>();
        var perStep = scenarios.ToDictionary(s => s.Name, _ => steps.ToDictionary(st => st, _ => new Samples()));
        var downtime = scenarios.ToDictionary(s => s.Name, _ => new Samples());
        var guestSeen = scenarios.ToDictionary(s => s.Name, _ => new Samples());
        var total = scenarios.ToDictionary(s => s.Name, _ => new Samples());
        for (int round = 0; round < options.Repeat; round++)
        {
            foreach (var scenario in scenarios)
            {
                var (info, backlog) = MigrateOnce(scenario, options.EngineLog);
                var timeline = info.Switchover ?? [];
                foreach (var step in timeline) perStep[scenario.Name][step.Step].Add(step.Ms);
                downtime[scenario.Name].Add(info.DowntimeMs ?? double.NaN);
                guestSeen[scenario.Name].Add(info.GuestDowntimeMs ?? double.NaN);
                total[scenario.Name].Add(info.TotalTimeMs ?? double.NaN);
                output.WriteLine($"  round {round + 1}, {scenario.Name}: downtime {info.DowntimeMs} ms, guest saw {info.GuestDowntimeMs} ms, total {info.TotalTimeMs} ms, " +
                    $"{(info.Ram?.DowntimeBytes ?? 0) / 1e6:0.00} MB sent in the stop, {backlog / 1e6:0.00} MB not yet read by the destination at the pause; " +
                    string.Join(", ", timeline.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Step.ToQapi()} {s.Ms:0.00}"))));
            }
        }
        var table = new TextTable(["scenario", .. steps.Select(s => s.ToQapi()), "downtime ms", "guest-seen ms", "total ms"]);
        foreach (var scenario in scenarios)
        {
            string Step(SwitchoverStep st) => perStep[scenario.Name][st] is { Count: > 0 } s ? s.Median.ToString("0.00", CultureInfo.InvariantCulture) : "-";
            string Range(Samples s) => $"{s.Median:0} ({s.Min:0}-{s.Max:0})";
            table.Add([scenario.Name, .. steps.Select(Step), Range(downtime[scenario.Name]), Range(guestSeen[scenario.Name]), Range(total[scenario.Name])]);
        }
        output.WriteLine();
        output.WriteLine($"Switchover step by step: KVM (dirty log), {Units.Gib(Memory)}, 1 vCPU, loopback, downtime-limit {MigrationParameters.DefaultDowntimeLimitMs} ms; " +
            $"medians in ms of {options.Repeat} interleaved rounds (downtime, guest-seen, total: median (range)).");
        output.WriteLine("Each step runs from the end of the one before: pause (vCPUs stopped), final-sync, final-pass, device-state, sent (Complete handed to the kernel), " +
            "ready (the destination's Ready arrived), commit (Commit written), resumed (the destination's Resumed arrived).");
        output.WriteLine(table);
    }

    private static (MigrationInfo Info, long BacklogAtPause) MigrateOnce(Scenario scenario, Action<string>? log)
    {
        var backend = MachineBackendChoice.KvmLog;
        using var guest = new LiveGuest(backend, scenario.Workload, Memory, 1);
        using var migration = new InProcessMigration(guest.Machine, backend.Host, log, ownsSource: false);
        guest.Machine.Resume();
        Thread.Sleep(scenario.WarmUp);
        migration.Settings.SetParameters(new MigrationParameters { MaxBandwidth = scenario.BandwidthBytesPerSecond });
        if (scenario.Xbzrle) migration.Settings.SetCapability(MigrationCapability.Xbzrle, true);
        var result = migration.Run(TimeSpan.FromMinutes(3));
        return (result.Info, result.BacklogAtPauseBytes);
    }
}
