using System.Globalization;
using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 12's side-by-side benchmark: the same exported guest (1 GiB, one vCPU) migrated over loopback by QEMU 7.2
/// and by Tern, alternately, for each of the scenarios; per scenario the medians and ranges of total time,
/// downtime, the stop the guest observed (heartbeats) and the guest's work during the migration, with Tern/QEMU
/// ratios per round, and for the fill-then-idle guest the wire rate next to loopback TCP measured in the same round.
/// </summary>
public static class VersusBenchmark
{
    private const ulong Memory = 1UL << 30;
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(60);

    private enum Vmm { Qemu, Tern }

    public static void Run(MacroOptions options, TextWriter output)
    {
        if (QemuGuestProcess.Unavailable() is { } why)
        {
            output.WriteLine($"versus: skipped: {why}");
            return;
        }
        var scenarios = VersusScenario.All(Memory).Where(s => options.Runs(s.Name)).ToArray();
        if (scenarios.Length == 0)
        {
            output.WriteLine("versus: --only takes one of " + string.Join(", ", VersusScenario.All(Memory).Select(s => s.Name)));
            return;
        }
        var results = scenarios.ToDictionary(s => s, _ => new Dictionary<Vmm, List<VersusOutcome>> { [Vmm.Qemu] = [], [Vmm.Tern] = [] });
        var roundRatios = scenarios.ToDictionary(s => s, _ => new List<string>());
        var loopback = new Samples();
        for (int round = 0; round < options.Repeat; round++)
        {
            foreach (var scenario in scenarios)
            {
                var guest = new VersusGuest(scenario, Memory);
                double loopbackBefore = scenario.FillThenIdle ? LoopbackThroughput.Measure(1, TimeSpan.FromSeconds(1)) : double.NaN;
                // Alternate which VMM goes first, so that a load that rises or falls over a round favours neither.
                Vmm[] order = round % 2 == 0 ? [Vmm.Qemu, Vmm.Tern] : [Vmm.Tern, Vmm.Qemu];
                var outcomes = new Dictionary<Vmm, VersusOutcome>();
                foreach (var vmm in order)
                {
                    outcomes[vmm] = MigrateOnce(vmm, guest, options.EngineLog);
                    results[scenario][vmm].Add(outcomes[vmm]);
                    output.WriteLine($"  round {round + 1}, {scenario.Name}, {vmm}: {outcomes[vmm]}; load {MacroBenchmarks.LoadAverage()}");
                }
                if (scenario.FillThenIdle)
                {
                    // A second before and a second after the pair, and the better of the two: on a loaded host one
                    // second of loopback can be starved (20 MiB/s once), which says nothing about the link.
                    double loopbackAfter = LoopbackThroughput.Measure(1, TimeSpan.FromSeconds(1));
                    double link = Math.Max(loopbackBefore, loopbackAfter);
                    loopback.Add(link);
                    output.WriteLine($"  round {round + 1}, loopback TCP {loopbackBefore / (1 << 20):0} MiB/s before, {loopbackAfter / (1 << 20):0} after; wire / loopback: " +
                        string.Join(", ", order.Where(v => outcomes[v].Completed).Select(v => $"{v} {Units.Ratio(outcomes[v].WireBytesPerSecond / link)}")));
                }
                string ratios = RoundRatios(scenario, outcomes[Vmm.Tern], outcomes[Vmm.Qemu]);
                roundRatios[scenario].Add(ratios);
                output.WriteLine($"  round {round + 1}, {scenario.Name}, Tern/QEMU: {ratios}");
            }
        }

        var table = new TextTable("scenario", "VMM", "completed", "total ms", "downtime ms", "guest stop ms", "writes/s during", "guest speed during / before", "wire MiB/s", "XBZRLE cache MiB");
        foreach (var scenario in scenarios)
        {
            var qemu = results[scenario][Vmm.Qemu];
            var tern = results[scenario][Vmm.Tern];
            foreach (var (vmm, runs) in new[] { (Vmm.Qemu, qemu), (Vmm.Tern, tern) })
            {
                var done = runs.Where(r => r.Completed).ToList();
                table.Add(scenario.Label, vmm == Vmm.Qemu ? "QEMU 7.2" : "Tern", $"{done.Count}/{runs.Count}",
                    Range(done, r => r.TotalMs, "0"), Range(done, r => r.DowntimeMs, "0"), Range(done, r => r.GuestStopMs, "0.0"),
                    scenario.CountsWork ? Range(done, r => r.WritesDuring, "N0") : "-",
                    scenario.CountsWork ? Range(done, r => r.WritesDuring / r.WritesBefore, "0.00") : "-",
                    Range(done, r => r.WireBytesPerSecond / (1 << 20), "0"),
                    scenario.Xbzrle ? Range(done, r => r.XbzrleCacheBytes / (1 << 20), "0") : "-");
            }
            table.Add("", "Tern/QEMU (medians)", "", Ratio(tern, qemu, r => r.TotalMs), Ratio(tern, qemu, r => r.DowntimeMs), Ratio(tern, qemu, r => r.GuestStopMs),
                scenario.CountsWork ? Ratio(tern, qemu, r => r.WritesDuring) : "-", "", Ratio(tern, qemu, r => r.WireBytesPerSecond), "");
        }
        output.WriteLine();
        output.WriteLine($"Tern and QEMU 7.2 side by side (issue 12): the same exported guest (tern guest export), {Units.Gib(Memory)}, 1 vCPU, KVM, " +
            $"migrated over loopback TCP, downtime-limit {MigrationParameters.DefaultDowntimeLimitMs} ms, given up after {GiveUp.TotalSeconds:0} s; " +
            $"medians (min-max) of {options.Repeat} rounds, the VMMs alternating within each.");
        output.WriteLine("QEMU: two qemu-system-x86_64 processes (-incoming on the destination), driven through QMP. Tern: source and destination VmHosts " +
            "(what tern run serves QMP from) in this process, the KVM machine loaded from the same exported file.");
        output.WriteLine("total and downtime: each VMM's query-migrate. guest stop: the gap between the source's last heartbeat and the destination's first " +
            "(Tern: x-guest-downtime; QEMU: its heartbeat port's debugcon written to a unix socket here, timestamped on arrival).");
        output.WriteLine("writes/s during: the guest's own write counter (QEMU: read with the monitor's xp) from migrate to the source's stop, over total-time; " +
            "before: the second before migrate. wire: ram transferred over total-time.");
        if (loopback.Count > 0)
            output.WriteLine($"Loopback TCP (one stream, as Tern's transport sets sockets up), the better of a second before and a second after each fill-then-idle pair: median {loopback.Median / (1 << 20):0} MiB/s " +
                $"({loopback.Min / (1 << 20):0}-{loopback.Max / (1 << 20):0}); wire / loopback from the medians: " +
                $"QEMU {Units.Ratio(WireMedian(results, Vmm.Qemu) / loopback.Median)}, Tern {Units.Ratio(WireMedian(results, Vmm.Tern) / loopback.Median)}.");
        output.WriteLine(table);
        output.WriteLine("Tern/QEMU per round (total, downtime, guest stop, writes/s during):");
        foreach (var scenario in scenarios) output.WriteLine($"  {scenario.Name}: " + string.Join("; ", roundRatios[scenario]));

        double WireMedian(Dictionary<VersusScenario, Dictionary<Vmm, List<VersusOutcome>>> all, Vmm vmm) =>
            Median(all.Where(x => x.Key.FillThenIdle).SelectMany(x => x.Value[vmm]).Where(r => r.Completed).Select(r => r.WireBytesPerSecond));
    }

    private static VersusOutcome MigrateOnce(Vmm vmm, VersusGuest guest, Action<string>? log)
    {
        try
        {
            return vmm == Vmm.Qemu ? QemuVersusRun.Migrate(guest, GiveUp) : TernVersusRun.Migrate(guest, GiveUp, log);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or System.Net.Sockets.SocketException)
        {
            // One failed run is a row's "completed" count, not the end of the benchmark.
            return new VersusOutcome(false, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, e.Message);
        }
    }

    private static string RoundRatios(VersusScenario scenario, VersusOutcome tern, VersusOutcome qemu)
    {
        if (!tern.Completed || !qemu.Completed) return "-";
        var parts = new List<string> { Units.Ratio(tern.TotalMs / qemu.TotalMs), Units.Ratio(tern.DowntimeMs / qemu.DowntimeMs), Units.Ratio(tern.GuestStopMs / qemu.GuestStopMs) };
        if (scenario.CountsWork) parts.Add(Units.Ratio(tern.WritesDuring / qemu.WritesDuring));
        return string.Join(" ", parts);
    }

    private static string Ratio(List<VersusOutcome> tern, List<VersusOutcome> qemu, Func<VersusOutcome, double> f) =>
        Units.Ratio(Median(tern.Where(r => r.Completed).Select(f)) / Median(qemu.Where(r => r.Completed).Select(f)));

    private static string Range(List<VersusOutcome> runs, Func<VersusOutcome, double> f, string format)
    {
        if (runs.Count == 0) return "-";
        var s = new Samples();
        foreach (var r in runs) s.Add(f(r));
        string F(double v) => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);
        return runs.Count == 1 ? F(s.Median) : $"{F(s.Median)} ({F(s.Min)}-{F(s.Max)})";
    }

    private static double Median(IEnumerable<double> values)
    {
        var s = new Samples();
        foreach (var v in values) s.Add(v);
        return s.Median;
    }
}
