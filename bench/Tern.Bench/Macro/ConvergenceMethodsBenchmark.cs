using System.Diagnostics;
using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 10: a guest that rewrites its working set faster than the link sends it, migrated with each convergence
/// method in turn (plain pre-copy as the baseline, Tern's computed throttle, QEMU's step algorithm, the dirty limit),
/// on real KVM. Reports total time and downtime, and the guest's own progress: its rate during the migration against
/// its rate just before it, and the work it lost (what it would have done at its old rate, minus what it did).
/// </summary>
public static class ConvergenceMethodsBenchmark
{
    private sealed record Method(string Name, MachineBackendChoice Backend, Action<Tern.Migration.Engine.MigrationSettings> Configure, bool Qemu = false);

    private const string QemuAutoConverge = "QEMU 7.2 auto-converge (exported guest)";

    public static void Run(MacroOptions options, TextWriter output)
    {
        if (MachineBackendChoice.KvmLog.Unavailable is { } why)
        {
            output.WriteLine($"convergence: skipped ({why}); the simulated guest outruns any throttle");
            return;
        }
        ulong memory = options.Sizes.FirstOrDefault(1UL << 30);
        string workload = $"seq:ws={memory / 2 >> 20}M";
        const ulong link = 100 << 20;
        const long giveUpMs = 90_000;
        Method[] methods =
        [
            new("none (plain pre-copy)", MachineBackendChoice.KvmLog, _ => { }),
            new("auto-converge computed", MachineBackendChoice.KvmLog, s => s.SetCapability(MigrationCapability.AutoConverge, true)),
            new("auto-converge step (QEMU)", MachineBackendChoice.KvmLog, s =>
            {
                s.SetParameters(s.Parameters with { ThrottleMethod = "step" });
                s.SetCapability(MigrationCapability.AutoConverge, true);
            }),
            new("dirty-limit 25 MB/s (ring)", MachineBackendChoice.KvmRing, s =>
            {
                s.SetParameters(s.Parameters with { VcpuDirtyLimit = 25 });
                s.SetCapability(MigrationCapability.DirtyLimit, true);
            }),
            .. QemuGuestProcess.Unavailable() is null ? [new Method(QemuAutoConverge, MachineBackendChoice.KvmLog, _ => { }, Qemu: true)] : Array.Empty<Method>(),
        ];
        if (QemuGuestProcess.Unavailable() is { } noQemu) output.WriteLine($"  {QemuAutoConverge}: skipped ({noQemu})");
        // --only picks methods by a word of their name (none, computed, step, dirty-limit, QEMU).
        methods = methods.Where(m => options.Only is null || m.Name.Contains(options.Only, StringComparison.OrdinalIgnoreCase)).ToArray();
        var table = new TextTable("method", "completed", "total s", "downtime ms", "peak throttle %", "guest rate during / before", "work lost, s of guest time", "passes");
        var results = methods.ToDictionary(m => m.Name, _ => new List<ConvergenceOutcome>());
        // Rounds interleave the methods, so that a change in the host's load touches them all alike.
        for (int round = 0; round < options.Repeat; round++)
        {
            foreach (var method in methods)
            {
                var outcome = method.Qemu
                    ? QemuConvergenceRun.Migrate(workload, memory, link, MigrationParameters.DefaultDowntimeLimitMs, giveUpMs)
                    : MigrateOnce(method, workload, memory, link, giveUpMs, options.EngineLog);
                results[method.Name].Add(outcome);
                output.WriteLine($"  round {round + 1}, {method.Name}: {outcome}");
            }
        }
        foreach (var method in methods)
        {
            var runs = results[method.Name];
            Samples Of(Func<ConvergenceOutcome, double> f) { var s = new Samples(); foreach (var r in runs) s.Add(f(r)); return s; }
            string Range(Samples s, string format) => $"{s.Median.ToString(format)} ({s.Min.ToString(format)}-{s.Max.ToString(format)})";
            table.Add(method.Name, $"{runs.Count(r => r.Completed)}/{runs.Count}",
                Range(Of(r => r.TotalMs / 1000.0), "0.0"), Range(Of(r => r.DowntimeMs), "0"), Range(Of(r => r.PeakThrottle), "0"),
                Range(Of(r => r.RateRatio), "0.00"), Range(Of(r => r.LostSeconds), "0.0"), Range(Of(r => r.Passes), "0"));
        }
        output.WriteLine();
        output.WriteLine($"Convergence methods: KVM, {Units.Gib(memory)}, 1 vCPU, {workload}, max-bandwidth {link >> 20} MiB/s, downtime-limit " +
            $"{MigrationParameters.DefaultDowntimeLimitMs} ms, given up after {giveUpMs / 1000} s; medians (ranges) of {options.Repeat} interleaved rounds.");
        output.WriteLine("Guest rate: its own progress counters over the whole migration, against the second before it (same run). " +
            "Work lost: the rate before x migration time, minus the progress made, in seconds of the guest's unslowed time.");
        output.WriteLine(table);
    }

    private static ConvergenceOutcome MigrateOnce(Method method, string workload, ulong memory, ulong link, long giveUpMs, Action<string>? log)
    {
        using var guest = new LiveGuest(method.Backend, workload, memory, 1);
        var migration = new InProcessMigration(guest.Machine, method.Backend.Host, log, ownsSource: false);
        using var _ = migration;
        guest.Machine.Resume();
        // The first sweep over the working set touches fresh memory (slow, and nothing to re-dirty yet): start from
        // the steady state, after two whole sweeps.
        ulong sweep = memory / 2 / 4096;
        var warmUp = Stopwatch.StartNew();
        while (guest.Progress() < 2 * sweep && warmUp.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(100);
        ulong before0 = guest.Progress();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(1000);
        double rateBefore = (guest.Progress() - before0) / clock.Elapsed.TotalSeconds;

        migration.Settings.SetParameters(new MigrationParameters { MaxBandwidth = link, TimeoutMs = giveUpMs });
        method.Configure(migration.Settings);
        ulong start = guest.Progress();
        clock.Restart();
        var result = migration.TryRun(TimeSpan.FromMilliseconds(giveUpMs + 30_000));
        double seconds = clock.Elapsed.TotalSeconds;
        // The source's counters stop where the guest was handed over (or where it kept running, after a failure).
        double done = guest.Progress() - start;
        var info = result.Info;
        return new ConvergenceOutcome(info.Status == MigrationStatus.Completed, info.TotalTimeMs ?? seconds * 1000, info.DowntimeMs ?? double.NaN,
            info.ThrottlePeak ?? 0, done / seconds / rateBefore, Math.Max(0, rateBefore * seconds - done) / rateBefore, result.LivePasses);
    }
}
