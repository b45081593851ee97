using Tern.Guest;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Trust;

/// <summary>
/// A real KVM guest against a destination that hangs in the switchover: the pause is the guest's own (its heartbeats
/// stop while its vCPUs are stopped), and it must end at the downtime limit plus the margin, with the guest running
/// again on the source.
/// </summary>
[Collection(KvmCollection.Name)]
public sealed class KvmLyingDestinationTests
{
    [Theory]
    [InlineData(LieStep.FinalPass, Lie.StopReading)]
    [InlineData(LieStep.Complete, Lie.ReadyTwice)]
    public void A_kvm_guest_is_not_held_paused_by_a_destination_that_hangs_or_lies_in_the_switchover(LieStep at, Lie lie)
    {
        RequireKvm.Present();
        var guest = KvmGuests.Boot(WorkloadSpec.Parse("seq:ws=16M"), 64 << 20, 1);
        using var run = new LyingPeerRun(new LyingDestination(at, lie), guest, TimeSpan.FromMilliseconds(300));
        var source = run.Migrate();

        Assert.True(run.Destination.Lied, run.Describe(source));
        run.AssertSourceKeptTheVm(source);
        Assert.True(run.LongestPause > TimeSpan.Zero, run.Describe(source));
    }
}
