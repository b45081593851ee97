using Tern.Guest;
using Tern.Machine.Kvm;
using Tern.Memory;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Throttle;

/// <summary>
/// A real KVM guest that rewrites its working set faster than the link sends it. Under dirty logging its speed is
/// bound by the write-protection fault on each page's first write after a sync, so a throttle slows it in proportion
/// and auto-converge can bring it home.
/// </summary>
[Collection(KvmCollection.Name)]
public sealed class KvmAutoConvergeTests
{
    private const ulong Memory = 128 << 20;
    // 64 MiB of working set on a 16 MiB/s link: a pass of the whole set takes 4 s, and the unthrottled guest dirties
    // all of it again in well under a second.
    private static readonly WorkloadSpec Hungry = WorkloadSpec.Parse("seq:ws=64M");

    [Theory]
    [InlineData("computed", 20, 10)]
    [InlineData("step", 80, 5)]
    public void A_guest_that_outruns_the_link_completes_with_auto_converge_verified_and_unthrottled_afterwards(string method, int initial, int increment)
    {
        RequireKvm.Present();
        var source = KvmGuests.Boot(Hungry, Memory, 1);
        using var m = new LocalMigration(source, d => KvmMachine.Create(new KvmMachineOptions(d.MemoryBytes, d.VcpuCount) { Workload = d.Workload }));
        m.Settings.SetParameters(new MigrationParameters
        {
            MaxBandwidth = 16 << 20, ThrottleMethod = method, CpuThrottleInitial = initial, CpuThrottleIncrement = increment,
        });
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Settings.SetCapability(MigrationCapability.AutoConverge, true);
        source.Resume();
        Thread.Sleep(300);

        int most = 0;
        var (migration, run) = m.Start(s => s.Event += e =>
        {
            if (e is MigrationPassStarted) most = Math.Max(most, s.Info().CpuThrottlePercentage ?? 0);
        });
        m.Finish(migration, run, TimeSpan.FromSeconds(150));
        Assert.True(migration.Status == MigrationStatus.Completed, m.Describe(migration));
        Assert.True(migration.Info().Verification!.Matched);
        Assert.True(most > 0, $"the guest was throttled on the way; {m.Describe(migration)}");
        Assert.Equal(0, source.GetThrottle(0));

        var destination = (KvmMachine)m.DestinationMachine!;
        Assert.Equal(0, destination.GetThrottle(0));
        var model = new WorkloadModel(GuestLayout.Compute(Hungry, Memory, 1));
        destination.Pause();
        Assert.Null(destination.Fault);
        var report = model.Verify(destination.Ram.GetSpan(GuestAddress.Zero, (int)Memory), KvmGuests.Counters(model, destination));
        Assert.True(report.IsExact, report.ToString());
    }
}
