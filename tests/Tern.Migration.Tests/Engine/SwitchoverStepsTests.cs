using Tern.Migration.Api;

namespace Tern.Migration.Tests.Engine;

/// <summary>query-migrate's x-switchover: how long each step of the switchover took, in order, adding up to the downtime.</summary>
public sealed class SwitchoverStepsTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_completed_migration_reports_each_switchover_step_in_order_within_the_downtime(bool verify)
    {
        using var m = LocalMigration.Sim("seq:ws=8M", 64 << 20, vcpus: 1);
        m.Settings.SetCapability(MigrationCapability.Verify, verify);
        m.Source.Resume();
        Thread.Sleep(200);
        var before = m.Start();
        Assert.Null(before.Source.Info().Switchover); // nothing before the switchover
        m.Finish(before.Source, before.Run);
        var source = before.Source;

        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        var info = source.Info();
        SwitchoverStep[] expected = verify
            ? [SwitchoverStep.Pause, SwitchoverStep.FinalSync, SwitchoverStep.FinalPass, SwitchoverStep.DeviceState, SwitchoverStep.Digest,
                SwitchoverStep.Sent, SwitchoverStep.Ready, SwitchoverStep.Commit, SwitchoverStep.Resumed]
            : [SwitchoverStep.Pause, SwitchoverStep.FinalSync, SwitchoverStep.FinalPass, SwitchoverStep.DeviceState,
                SwitchoverStep.Sent, SwitchoverStep.Ready, SwitchoverStep.Commit, SwitchoverStep.Resumed];
        Assert.Equal(expected, info.Switchover!.Select(s => s.Step).ToArray());
        Assert.All(info.Switchover!, s => Assert.True(s.Ms >= 0, $"{s.Step} {s.Ms} ms"));
        // The steps cover the pause to the destination's Resumed, which is the downtime (taken just after them).
        double sum = info.Switchover!.Sum(s => s.Ms);
        Assert.True(sum <= info.DowntimeMs!.Value + 1, $"steps add up to {sum} ms, downtime {info.DowntimeMs} ms");
        Assert.True(sum >= info.DowntimeMs!.Value - 50, $"steps add up to {sum} ms, downtime {info.DowntimeMs} ms");
        Assert.Contains(m.Log, l => l.StartsWith("src: switchover: pause ", StringComparison.Ordinal));
        // Dirty logging is turned off after the stop rather than inside it, but it is off once the migration is done.
        Assert.False(m.Source.DirtyTracker.IsTracking, "the source still tracks dirty pages after the migration");
    }
}
