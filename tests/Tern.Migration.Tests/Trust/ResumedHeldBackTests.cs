using Tern.Migration.Api;
using Tern.Migration.Tests.Failures;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Trust;

/// <summary>
/// The destination holds Resumed back until the guest's first heartbeat there, with the guest already running, and
/// says for how long: the source leaves that wait out of the downtime and of x-switchover's steps, which measure the
/// stop, not the confirmation.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class ResumedHeldBackTests
{
    [Fact]
    public void The_time_the_destination_held_Resumed_back_is_not_downtime()
    {
        // 2 s, inside the test's 3 s reply timeout: counted in, the downtime would be at least that.
        var held = TimeSpan.FromSeconds(2);
        using var run = new LyingPeerRun(new LyingDestination(LieStep.Complete, Lie.Ready) { ResumedHeldBack = held }, LyingPeerRun.Converging);
        var source = run.Migrate();

        Assert.True(source.Status == MigrationStatus.Completed, run.Describe(source));
        var info = source.Info();
        Assert.True(info.DowntimeMs < held.TotalMilliseconds, $"downtime {info.DowntimeMs} ms counts the {held.TotalMilliseconds} ms the destination held Resumed back");
        double steps = info.Switchover!.Sum(s => s.Ms);
        Assert.True(steps <= info.DowntimeMs!.Value + 1, $"the steps add up to {steps:0} ms, the downtime is {info.DowntimeMs} ms");
        Assert.Equal(SwitchoverStep.Resumed, info.Switchover![^1].Step);
    }
}
