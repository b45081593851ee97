using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Throttle;

/// <summary>
/// The throttle's life on the simulated backend, whose guest is CPU-bound when uncapped (so a throttle slows it in
/// proportion): it acts only with auto-converge on and is gone the moment the migration ends. Convergence itself is
/// tested on real KVM (<see cref="KvmAutoConvergeTests"/>): the simulated guest, with no write-protection faults,
/// dirties its working set faster than any link even at 99%.
/// </summary>
public sealed class AutoConvergeMigrationTests
{
    private static LocalMigration Guest(string workload, ulong link)
    {
        var m = LocalMigration.Sim(workload, memoryBytes: 32 << 20, vcpus: 1);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = link });
        m.Source.Resume();
        Thread.Sleep(300);
        return m;
    }

    [Fact]
    public void Without_auto_converge_a_guest_that_outruns_the_link_is_reported_as_not_converging_and_is_never_throttled()
    {
        using var m = Guest("seq:ws=8M,rate=16", link: 4 << 20);
        m.Settings.SetParameters(m.Settings.Parameters with { TimeoutMs = 7000 });
        var source = m.Run(TimeSpan.FromSeconds(60));
        Assert.Equal(MigrationStatus.Failed, source.Status);
        Assert.Contains("did not converge", source.Info().ErrorDesc);
        Assert.Null(source.Info().CpuThrottlePercentage);
        Assert.Equal(0, m.Source.GetThrottle(0));
    }

    [Fact]
    public void The_throttle_is_released_the_moment_the_migration_is_cancelled_and_the_guest_regains_its_speed()
    {
        // A link so slow that the migration cannot finish: the throttle rises and stays until the cancel. QEMU's step
        // throttle, since the computed one stops climbing on this guest (it rewrites its 2 MiB many times a period, so
        // more throttle does not lower its measured rate; see the next test).
        using var m = Guest("seq:ws=2M", link: 1 << 20);
        m.Settings.SetParameters(m.Settings.Parameters with { ThrottleMethod = "step", CpuThrottleInitial = 90 });
        m.Settings.SetCapability(MigrationCapability.AutoConverge, true);
        var sim = (SimMachine)m.Source;

        var (source, run) = m.Start();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && (source.Info().CpuThrottlePercentage ?? 0) < 90) Thread.Sleep(50);
        int throttled = source.Info().CpuThrottlePercentage ?? 0;
        Assert.True(throttled >= 90, $"the throttle rose to {throttled}%; {m.Describe(source)}");
        Assert.Equal(throttled / 100.0, sim.GetThrottle(0), 3);
        double during = ProgressRate(sim);

        source.Cancel();
        m.Finish(source, run, TimeSpan.FromSeconds(30));
        Assert.Equal(MigrationStatus.Cancelled, source.Status);
        Assert.Equal(0, sim.GetThrottle(0));
        Assert.Equal(MachineRunState.Running, sim.State);
        double after = ProgressRate(sim);
        // At 90% or more the guest runs at most a tenth of the time: its own counters must show at least a third of
        // that effect, even with other tests taking cores (the half second before the migration is no baseline: the
        // simulated guest's loop is still being compiled to its fast form then).
        Assert.True(after > 3 * during, $"the guest regained its speed: {during:0} writes/s throttled at {throttled}%, {after:0} after the cancel");
    }

    [Fact]
    public void On_a_guest_whose_measured_rate_the_throttle_cannot_lower_the_computed_throttle_stops_climbing_and_says_why()
    {
        // The guest rewrites 2 MiB many times between two syncs: whatever its speed, each period counts all of it.
        using var m = Guest("seq:ws=2M", link: 1 << 20);
        m.Settings.SetCapability(MigrationCapability.AutoConverge, true);
        var (source, run) = m.Start();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && source.Info().ThrottleReason?.Contains("held at", StringComparison.Ordinal) != true) Thread.Sleep(50);
        var info = source.Info();
        source.Cancel();
        m.Finish(source, run, TimeSpan.FromSeconds(30));
        Assert.True(info.ThrottleReason?.Contains("more throttle did not lower its dirty rate", StringComparison.Ordinal) == true, m.Describe(source));
        Assert.True(source.History.Max(p => p.ThrottlePercent?[0] ?? 0) < 99, $"the throttle went to the maximum; {m.Describe(source)}");
    }

    /// <summary>The guest's own progress (its counters), in writes a second over half a second.</summary>
    private static double ProgressRate(SimMachine machine)
    {
        ulong Sum() => machine.ReadCounters().Aggregate(0UL, (a, b) => a + b);
        var start = Sum();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Thread.Sleep(500);
        return (Sum() - start) / watch.Elapsed.TotalSeconds;
    }
}
