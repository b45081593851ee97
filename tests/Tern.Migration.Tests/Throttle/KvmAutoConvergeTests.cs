using Tern.Guest;
using Tern.Machine.Kvm;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Throttle;

/// <summary>
/// A real KVM guest that rewrites its working set faster than the link sends it. Under dirty logging its speed is
/// bound by the write-protection fault on each page's first write after a sync, so a throttle slows it in proportion
/// and auto-converge (or the dirty limit) can bring it home.
/// </summary>
[Collection(KvmCollection.Name)]
public sealed class KvmAutoConvergeTests
{
    private const ulong Memory = 128 << 20;
    private const ulong Link = 16 << 20;
    // 64 MiB of working set on a 16 MiB/s link: a pass of the whole set takes 4 s, and the unthrottled guest dirties
    // all of it again in well under a second.
    private static readonly WorkloadSpec Hungry = WorkloadSpec.Parse("seq:ws=64M");

    [Theory]
    [InlineData("computed", 20, 10)]
    [InlineData("step", 90, 5)]
    public void A_guest_that_outruns_the_link_completes_with_auto_converge_verified_and_unthrottled_afterwards(string method, int initial, int increment)
    {
        RequireKvm.Present();
        var source = KvmGuests.Boot(Hungry, Memory, 1);
        using var m = Throttled(source, MigrationCapability.AutoConverge,
            new MigrationParameters { MaxBandwidth = Link, ThrottleMethod = method, CpuThrottleInitial = initial, CpuThrottleIncrement = increment });
        source.Resume();
        Thread.Sleep(300);

        var migration = MigrateVerified(m);
        Assert.True(PeakThrottle(migration, 0) > 0, $"the guest was throttled on the way; {m.Describe(migration)}");
        Assert.Equal(0, source.GetThrottle(0));

        var destination = (KvmMachine)m.DestinationMachine!;
        Assert.Equal(0, destination.GetThrottle(0));
        var model = new WorkloadModel(GuestLayout.Compute(Hungry, Memory, 1));
        destination.Pause();
        Assert.Null(destination.Fault);
        var report = model.Verify(destination.Ram.GetSpan(GuestAddress.Zero, (int)Memory), KvmGuests.Counters(model, destination));
        Assert.True(report.IsExact, report.ToString());
    }

    [Fact]
    public void The_dirty_limit_holds_a_vcpu_to_its_limit_and_the_migration_completes_verified()
    {
        RequireKvm.Present();
        // The dirty ring tells vCPUs apart, which the dirty limit needs.
        var source = KvmGuests.Boot(WorkloadSpec.Parse("seq:ws=32M"), Memory, 1, DirtyTrackingKind.Ring);
        using var m = Throttled(source, MigrationCapability.DirtyLimit, new MigrationParameters { MaxBandwidth = Link, VcpuDirtyLimit = 4 });
        source.Resume();
        Thread.Sleep(300);

        long mostSleptUs = 0, ringFullUs = 0;
        var migration = MigrateVerified(m, s => s.Event += e =>
        {
            if (e is not MigrationPassStarted) return;
            var info = s.Info();
            mostSleptUs = Math.Max(mostSleptUs, info.DirtyLimitThrottleTimePerRoundUs ?? 0);
            ringFullUs = Math.Max(ringFullUs, info.DirtyLimitRingFullTimeUs ?? 0);
        });
        Assert.True(mostSleptUs > 0, $"the vCPU slept to keep to its limit; {m.Describe(migration)}");
        // A 1 MiB ring names 256 MiB; a vCPU held near 4 MB/s fills it in about a minute, never in under 0.1 s.
        Assert.InRange(ringFullUs, 100_000, 3_600_000_000);
        Assert.Contains(m.Log, l => l.Contains("limit 4 MB/s", StringComparison.Ordinal));
        Assert.True(PeakThrottle(migration, 0) > 0, m.Describe(migration));
        Assert.Equal(0, source.GetThrottle(0));
    }

    [Fact]
    public void The_dirty_limit_slows_the_vcpu_that_dirties_and_leaves_the_one_that_computes_alone()
    {
        RequireKvm.Present();
        var workload = GuestWorkload.Parse("seq:ws=32M;compute");
        var source = KvmGuests.Boot(workload, Memory, 2, DirtyTrackingKind.Ring);
        using var m = Throttled(source, MigrationCapability.DirtyLimit, new MigrationParameters { MaxBandwidth = Link, VcpuDirtyLimit = 4 });
        var model = new WorkloadModel(GuestLayout.Compute(workload, Memory, 2));
        source.Resume();
        Thread.Sleep(500);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var before0 = KvmGuests.Counters(model, source);
        Thread.Sleep(1000);
        var before1 = KvmGuests.Counters(model, source);
        double computeBefore = (before1[1] - before0[1]) / clock.Elapsed.TotalSeconds;

        clock.Restart();
        var migration = MigrateVerified(m);
        // The source's counters stopped where it handed the guest over.
        var after = KvmGuests.Counters(model, source);
        double computeDuring = (after[1] - before1[1]) / clock.Elapsed.TotalSeconds;

        Assert.True(PeakThrottle(migration, 0) > 0, m.Describe(migration));
        Assert.Equal(0, PeakThrottle(migration, 1));
        Assert.True(computeDuring > 0.6 * computeBefore,
            $"the computing vCPU kept its speed: {computeBefore:0} iterations/s before, {computeDuring:0} during; {m.Describe(migration)}");
        TestContext.Current.TestOutputHelper?.WriteLine($"compute vCPU: {computeBefore:0}/s before, {computeDuring:0}/s during ({computeDuring / computeBefore:0.00})");
    }

    /// <summary>An in-process migration of <paramref name="source"/> to a KVM destination, verified, with one throttle on.</summary>
    private static LocalMigration Throttled(KvmMachine source, MigrationCapability throttle, MigrationParameters parameters)
    {
        var m = new LocalMigration(source, d => KvmMachine.Create(new KvmMachineOptions(d.MemoryBytes, d.VcpuCount) { Workload = d.Workload }));
        m.Settings.SetParameters(parameters);
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Settings.SetCapability(throttle, true);
        return m;
    }

    private static MigrationSource MigrateVerified(LocalMigration m, Action<MigrationSource>? configure = null)
    {
        var (migration, run) = m.Start(configure);
        m.Finish(migration, run, TimeSpan.FromSeconds(150));
        Assert.True(migration.Status == MigrationStatus.Completed, m.Describe(migration));
        Assert.True(migration.Info().Verification!.Matched);
        return migration;
    }

    /// <summary>The highest throttle <paramref name="vcpu"/> ran under, from the pass history.</summary>
    private static int PeakThrottle(MigrationSource migration, int vcpu) =>
        migration.History.Select(p => p.ThrottlePercent is { } t ? t[vcpu] : 0).DefaultIfEmpty(0).Max();
}
