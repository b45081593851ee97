using Tern.Control.Host;
using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Control.Tests.DirtyRate;

/// <summary>
/// Dirty tracking is on while a migration needs it and off once it ends, however it ends: a cancelled migration leaves
/// the guest running here at full speed, and a completed one leaves neither side tracking.
/// </summary>
[Collection(KvmHostCollection.Name)]
public sealed class TrackingAfterMigrationOnKvmTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void A_cancelled_and_then_a_completed_migration_each_leave_dirty_tracking_off()
    {
        using var source = KvmGuestHost.Start("seq:ws=16M,rate=8", 64 << 20);
        using var destination = new VmHost(new MachineHostOptions { Backend = MachineBackend.Kvm });
        var tracker = source.Machine!.DirtyTracker;
        destination.StartIncoming("tcp:127.0.0.1:0");

        // Slow enough that the first pass is still going when it is cancelled: tracking is on by then.
        source.SetParameters(source.GetParameters() with { MaxBandwidth = 1 << 20 });
        source.StartMigration(destination.IncomingAddress!.ToString());
        KvmGuestHost.WaitUntil(() => tracker.IsTracking, Patience, "the migration turns dirty tracking on");
        source.CancelMigration();
        KvmGuestHost.WaitUntil(() => source.QueryMigrate().Status.IsFinished(), Patience, "the cancelled migration ends");

        Assert.Equal(MigrationStatus.Cancelled, source.QueryMigrate().Status);
        Assert.Equal(RunState.Running, source.RunState);
        Assert.False(tracker.IsTracking, "dirty tracking stayed on after the migration was cancelled");

        source.SetParameters(source.GetParameters() with { MaxBandwidth = 0 });
        source.StartMigration(destination.IncomingAddress!.ToString());
        KvmGuestHost.WaitUntil(() => source.QueryMigrate().Status.IsFinished(), Patience, "the second migration ends");

        Assert.Equal(MigrationStatus.Completed, source.QueryMigrate().Status);
        Assert.False(tracker.IsTracking, "dirty tracking stayed on on the source after the migration completed");
        KvmGuestHost.WaitUntil(() => destination.RunState == RunState.Running, Patience, "the destination runs the guest");
        Assert.False(destination.Machine!.DirtyTracker.IsTracking, "the destination tracks dirty pages");
    }
}
