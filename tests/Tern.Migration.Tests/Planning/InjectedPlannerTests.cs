using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Planning;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Planning;

/// <summary>
/// A planner given to the source decides what the engine does, over real sockets with simulated guests: the engine
/// continues, switches over or aborts when the planner says so, not when its own policy would, and reports the
/// planner's reasons.
/// </summary>
public sealed class InjectedPlannerTests
{
    /// <summary>The default planner's encodings and throttle, with the action and reason a test chooses (null: the default's).</summary>
    private sealed class ScriptedPlanner(Func<PlanInputs, (PassAction, string)?> decide) : IPassPlanner
    {
        private readonly DefaultPassPlanner inner = new();

        public PassPlan Plan(PlanInputs inputs)
        {
            var plan = inner.Plan(inputs);
            return !inputs.Final && decide(inputs) is var (action, reason) ? plan with { Action = action, Reason = reason } : plan;
        }
    }

    [Fact]
    public void The_engine_goes_on_past_the_default_switchover_and_switches_over_when_the_planner_says_so()
    {
        // 8 MiB rewritten over and over: the first pass carries all of it (the link is measured), and on loopback the
        // 2048 pages cost a few milliseconds, well within the limit.
        using var m = LocalMigration.Sim("seq:ws=8M", 64 << 20, vcpus: 1);
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Source.Resume();
        Thread.Sleep(300);
        var planner = new ScriptedPlanner(i => i.Latest switch
        {
            null => null,
            { Pass: < 3 } last => (PassAction.Continue, $"test planner: one more pass after pass {last.Pass}"),
            _ => (PassAction.SwitchOver, "test planner: three passes are enough"),
        });

        var (source, run) = m.Start(planner: planner);
        m.Finish(source, run);

        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.True(source.Info().Verification!.Matched);
        var history = source.History;
        Assert.Equal([("continue", "test planner: one more pass after pass 1"), ("continue", "test planner: one more pass after pass 2"),
            ("switchover", "test planner: three passes are enough"), ("complete", "the final pass: the guest is paused")],
            history.Select(p => (p.Decision, p.DecisionReason)).ToArray());
        Assert.True(history[^1].Final);
        // What was left after the first pass fit the limit: the default planner would have switched over there.
        var wouldHave = new DefaultPassPlanner().Plan(new PlanInputs { Pass = 2, Latest = history[0], Parameters = m.Settings.Parameters });
        Assert.True(wouldHave.Action == PassAction.SwitchOver, wouldHave.Reason);
        // query-migrate's x-plan shows the engine's last decision: the final pass's plan.
        var plan = source.Info().Plan!;
        Assert.Equal((4L, "switchover"), (plan.Pass, plan.Action));
    }

    [Fact]
    public void The_engine_aborts_when_the_planner_says_so_and_reports_its_reason_with_the_guest_still_here()
    {
        using var m = LocalMigration.Sim("seq:ws=8M", 64 << 20, vcpus: 1);
        m.Source.Resume();
        const string reason = "test planner: the guest is too busy to move now";
        var planner = new ScriptedPlanner(i => i.Latest is { Pass: 2 } ? (PassAction.Abort, reason) : (PassAction.Continue, "test planner: go on"));

        var (source, run) = m.Start(planner: planner);
        m.Finish(source, run);

        Assert.Equal(MigrationStatus.Failed, source.Status);
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        Assert.Equal($"{reason}; the VM keeps running on the source", source.Info().ErrorDesc);
        Assert.Equal(MachineRunState.Running, m.Source.State);
        Assert.Equal([("continue", "test planner: go on"), ("abort", reason)], source.History.Select(p => (p.Decision, p.DecisionReason)).ToArray());
        Assert.Equal(MigrationStatus.Failed, m.Destination.Status);
        Assert.Equal(("abort", reason), (source.Info().Plan!.Action, source.Info().Plan!.Reason));
    }

    [Fact]
    public void A_plan_to_start_post_copy_without_the_operators_postcopy_ram_is_refused_by_name_and_the_guest_stays_here()
    {
        using var m = LocalMigration.Sim("seq:ws=8M", 64 << 20, vcpus: 1);
        m.Source.Resume();
        var planner = new ScriptedPlanner(i => i.Latest is null ? null : (PassAction.StartPostcopy, "test planner: the guest dirties too fast"));

        var (source, run) = m.Start(planner: planner);
        m.Finish(source, run);

        Assert.Equal(MigrationStatus.Failed, source.Status);
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        Assert.Contains("the pass planner's plan for pass 2 cannot be applied: it asks for post-copy, which the operator did not allow (the postcopy-ram capability is off)",
            source.Info().ErrorDesc);
        Assert.Equal(MachineRunState.Running, m.Source.State);
    }

    [Fact]
    public void A_plan_the_destination_cannot_take_fails_the_migration_with_what_was_wrong()
    {
        using var m = LocalMigration.Sim("idle", 64 << 20, vcpus: 1);
        m.Source.Resume();
        var planner = new BadEncodingPlanner();

        var (source, run) = m.Start(planner: planner);
        m.FinishSource(source, run);

        Assert.Equal(MigrationStatus.Failed, source.Status);
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        Assert.Contains("the pass planner's plan for pass 1 cannot be applied: it asks for the unknown compression method 'gzip'", source.Info().ErrorDesc);
        Assert.Equal(MachineRunState.Running, m.Source.State);
    }

    private sealed class BadEncodingPlanner : IPassPlanner
    {
        public PassPlan Plan(PlanInputs inputs) =>
            new(PassAction.Continue, "test planner", PassEncoding.Plain with { CompressMethod = "gzip", CompressThreads = 1 }, null);
    }
}
