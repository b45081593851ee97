using System.Diagnostics;
using Tern.Guest;
using Tern.Machine;
using Tern.Memory;
using Tern.Migration.Api;
using Tern.Migration.Engine;

namespace Tern.Bench.Macro;

/// <summary>
/// One Tern migration of a live guest (real KVM, or the simulated backend) over loopback, switched to post-copy after
/// its first pass (<c>migrate-start-postcopy</c> asked for while pass 1 runs: Tern starts it when the pass ends), with
/// x-verify on, then the guest's model checked on the destination (what <c>x-check-guest</c> does). The guest's
/// progress in post-copy is its counter on the destination at completion minus the source's at the pause (frozen
/// there), over the time between the two statuses as polled.
/// </summary>
public static class TernPostcopyRun
{
    /// <param name="link">max-bandwidth for pre-copy's passes.</param>
    /// <param name="afterFirstPass">Settings changed when the first pass ends (e.g. to slow the background stream), or null.</param>
    public static PostcopyOutcome Migrate(MachineBackendChoice backend, string workload, ulong memory, ulong link,
        Action<MigrationSettings>? configure, Action<MigrationSettings>? afterFirstPass, Action<string>? log)
    {
        using var guest = new LiveGuest(backend, workload, memory, 1);
        var model = new WorkloadModel(GuestLayout.Compute(WorkloadSpec.Parse(workload), memory, 1));
        using var migration = new InProcessMigration(guest.Machine, backend.Host, log, ownsSource: false);
        guest.Machine.Resume();
        // The first sweep over the working set touches fresh memory: start from the steady state, after two sweeps.
        ulong sweep = model.Layout.WorkingSet.Length / PageSize.Bytes;
        var warmUp = Stopwatch.StartNew();
        while (guest.Progress() < 2 * sweep && warmUp.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(100);
        ulong before0 = guest.Progress();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(1000);
        double rateBefore = (guest.Progress() - before0) / clock.Elapsed.TotalSeconds;

        migration.Settings.SetParameters(migration.Settings.Parameters with { MaxBandwidth = link });
        migration.Settings.SetCapability(MigrationCapability.PostcopyRam, true);
        migration.Settings.SetCapability(MigrationCapability.Verify, true);
        configure?.Invoke(migration.Settings);
        var watch = new StatusWatch(migration.Destination, model);
        var result = migration.TryRun(TimeSpan.FromMinutes(3), source =>
        {
            source.Event += e =>
            {
                if (e is MigrationPassStarted { Pass: 1 }) source.StartPostcopy();
                if (e is MigrationPassCompleted { Report.Pass: 1 }) afterFirstPass?.Invoke(migration.Settings);
            };
        });
        var (postcopyMs, counterAtEnd, cpu) = watch.Stop();
        var info = result.Info;
        var stats = migration.Destination.Info().Postcopy;
        bool completed = info.Status == MigrationStatus.Completed;
        // The source's guest stopped at the pause: its counter is where the destination's began.
        ulong counterAtSwitch = guest.Progress();
        bool? exact = null;
        if (completed && migration.Destination.Machine is { } destination)
        {
            destination.Pause();
            var reader = new GuestMemoryPageReader(destination.Memory);
            var counters = model.ReadCounters(ref reader);
            exact = model.Verify(ref reader, counters).IsExact;
        }
        return new PostcopyOutcome(completed, info.TotalTimeMs ?? result.Wall.TotalMilliseconds, info.DowntimeMs ?? double.NaN, postcopyMs,
            stats?.LastPageMs, info.Ram?.PostcopyRequests ?? 0, stats?.StalePages ?? 0, stats?.Faults ?? 0, stats?.FaultLatencyP50Us, stats?.FaultLatencyP99Us, stats?.VcpuBlockedMs,
            rateBefore, counterAtEnd >= counterAtSwitch && postcopyMs > 0 ? (counterAtEnd - counterAtSwitch) / (postcopyMs / 1000) : double.NaN,
            info.Verification?.Matched, exact, completed ? null : info.ErrorDesc) { CpuInPostcopy = cpu };
    }

    /// <summary>
    /// Polls the destination's status every millisecond on a thread of its own: when it turned postcopy-active, and
    /// when completed, at which moment it reads the guest's counter there (every page has arrived: RAM can be read).
    /// </summary>
    private sealed class StatusWatch
    {
        private readonly Thread thread;
        private volatile bool stop;
        private double postcopyMs = double.NaN;
        private ulong counter;
        private string? cpu;

        public StatusWatch(MigrationDestination destination, WorkloadModel model)
        {
            thread = new Thread(() =>
            {
                long activeAt = 0;
                ThreadCpuSampler? sampler = null;
                try
                {
                    while (!stop)
                    {
                        var status = destination.Status;
                        if (status == MigrationStatus.PostcopyActive && activeAt == 0)
                        {
                            activeAt = Stopwatch.GetTimestamp();
                            sampler = new ThreadCpuSampler();
                        }
                        if (status.IsFinished())
                        {
                            if (status == MigrationStatus.Completed && activeAt != 0 && destination.Machine is { } machine)
                            {
                                var reader = new GuestMemoryPageReader(machine.Memory);
                                counter = model.ReadCounters(ref reader).Aggregate(0UL, (a, c) => a + c);
                                postcopyMs = Stopwatch.GetElapsedTime(activeAt).TotalMilliseconds;
                                cpu = Busiest(sampler!.Totals(name => name));
                            }
                            return;
                        }
                        Thread.Sleep(1);
                    }
                }
                finally
                {
                    sampler?.Dispose();
                }
            }) { IsBackground = true, Name = "bench post-copy status watch" };
            thread.Start();
        }

        public (double PostcopyMs, ulong CounterAtEnd, string? Cpu) Stop()
        {
            if (!thread.Join(TimeSpan.FromSeconds(5))) stop = true;
            thread.Join();
            return (postcopyMs, counter, cpu);
        }

        /// <summary>The threads that used the most CPU in post-copy (both ends and the guest run in this process): "name s (kernel s)".</summary>
        private static string Busiest(Dictionary<string, ThreadSample> byName) =>
            string.Join(", ", byName.Values.Where(t => t.CpuSeconds >= 0.05).OrderByDescending(t => t.CpuSeconds).Take(6)
                .Select(t => $"'{t.Name}' {t.CpuSeconds:0.00} s ({t.SystemSeconds:0.00} kernel)"));
    }
}
