using Tern.Control.Host;
using Tern.Control.Progress;
using Tern.Guest;
using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Control.Tests.Progress;

/// <summary>The VM host measures the guest's slowdown of every outgoing migration, however short, and query-migrate reports it.</summary>
public sealed class GuestSlowdownOnSimTests
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };

    [Fact]
    public void Every_migration_of_a_running_guest_reports_its_slowdown_even_one_shorter_than_the_sampling_period()
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            using var source = new VmHost(MachineBuilder.Boot(GuestWorkload.Parse("seq:ws=4M,rate=20;compute"), 64 << 20, 2, Sim), Sim);
            using var destination = new VmHost(Sim);
            source.Start();
            // The guest runs a little before the migration: every vCPU makes progress (a busy machine may keep a
            // vCPU thread waiting for a core), and then long enough for a before-window.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (source.QueryGuest()!.Progress.Any(p => p == 0) && DateTime.UtcNow < deadline) Thread.Sleep(10);
            Thread.Sleep(TimeSpan.FromSeconds(GuestSlowdownCalculator.MinimumBeforeSeconds) + 2 * VmHost.ProgressSamplePeriod);
            destination.StartIncoming("tcp:127.0.0.1:0");
            source.StartMigration(destination.IncomingAddress!.ToString());
            Assert.True(SpinWait.SpinUntil(() => source.QueryMigrate().Status.IsFinished(), TimeSpan.FromSeconds(30)),
                $"source still {source.QueryMigrate().Status}");

            var info = source.QueryMigrate();
            Assert.Equal(MigrationStatus.Completed, info.Status);
            var slowdown = info.GuestSlowdown;
            Assert.True(slowdown is not null, $"attempt {attempt}: no slowdown measured for a migration of {info.TotalTimeMs} ms");
            Assert.Equal(2, slowdown.VcpuSlowdowns.Count);
            Assert.All(slowdown.VcpuSlowdowns, f => Assert.NotNull(f));
            // Every vCPU ran before the migration (the test waited for it). How far each got during the live phase
            // depends on the scheduler: a live phase of a few milliseconds on a busy machine may see no progress at all.
            Assert.True(slowdown.ProgressBeforePerSecond > 0, $"{slowdown}");
            Assert.InRange(slowdown.Slowdown, double.NegativeInfinity, 1.0);
            // The live phase runs from the migration's start to its switchover: never longer than the migration.
            Assert.InRange(slowdown.DuringSeconds, 1e-6, info.TotalTimeMs!.Value / 1000.0 + 0.01);
            Assert.Null(destination.QueryMigrate().GuestSlowdown); // the destination did not watch it run before
        }
    }

    [Fact]
    public void A_guest_paused_when_the_migration_starts_has_no_slowdown_to_report()
    {
        using var source = new VmHost(MachineBuilder.Boot(GuestWorkload.Parse("seq:ws=4M,rate=20"), 64 << 20, 1, Sim), Sim);
        using var destination = new VmHost(Sim);
        source.Start();
        Thread.Sleep(3 * VmHost.ProgressSamplePeriod);
        source.Stop();
        destination.StartIncoming("tcp:127.0.0.1:0");
        source.StartMigration(destination.IncomingAddress!.ToString());
        Assert.True(SpinWait.SpinUntil(() => source.QueryMigrate().Status.IsFinished(), TimeSpan.FromSeconds(30)));
        Assert.Equal(MigrationStatus.Completed, source.QueryMigrate().Status);
        Assert.Null(source.QueryMigrate().GuestSlowdown);
    }
}
