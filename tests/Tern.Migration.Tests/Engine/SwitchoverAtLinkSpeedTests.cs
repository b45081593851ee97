using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Planning;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// max-bandwidth paces the live passes only: once the guest is stopped, the final pass, the device state and the
/// hand-over go at link speed (as QEMU sends its final pass "regardless of rate limiting"), since every byte held
/// back lengthens the stop.
/// </summary>
public sealed class SwitchoverAtLinkSpeedTests
{
    /// <summary>The default planner, except that after pass 1 it sets max-bandwidth to a crawl and switches over.</summary>
    private sealed class CrawlThenSwitchOver(MigrationSettings settings, ulong crawl) : IPassPlanner
    {
        private readonly DefaultPassPlanner inner = new();

        public PassPlan Plan(PlanInputs inputs)
        {
            var plan = inner.Plan(inputs);
            if (inputs.Final || inputs.Latest is null) return plan;
            settings.SetParameters(settings.Parameters with { MaxBandwidth = crawl });
            return plan with { Action = PassAction.SwitchOver, Reason = "test planner: switch over at a crawl" };
        }
    }

    [Fact]
    public void The_final_pass_is_not_held_to_max_bandwidth()
    {
        // The guest rewrites 8 MiB all the time, so the final pass carries what it wrote during pass 1 (up to 2048
        // pages). At 16 KiB/s even 5 of them would keep the guest stopped past the switchover deadline (the 300 ms
        // limit plus its margin, about 1.6 s), which would take the VM back and fail the migration.
        using var m = LocalMigration.Sim("seq:ws=8M", 64 << 20, vcpus: 1);
        m.Source.Resume();
        Thread.Sleep(200);

        var (source, run) = m.Start(planner: new CrawlThenSwitchOver(m.Settings, 16 << 10));
        m.Finish(source, run);

        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.Equal(16UL << 10, m.Settings.Parameters.MaxBandwidth); // the operator's setting is left as it was
        var final = source.History[^1];
        Assert.True(final.Final);
        Assert.True(final.NormalPages + final.XbzrlePages >= 5, $"the final pass sent only {final.NormalPages} pages: the test proves nothing");
    }
}
