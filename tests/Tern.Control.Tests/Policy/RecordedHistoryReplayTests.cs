using System.Text.Json;
using Tern.Control.Qapi;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Planning;
using Tern.Migration.Throttle;

namespace Tern.Control.Tests.Policy;

/// <summary>
/// A pass history recorded from a real migration (`tern migrate --auto-converge` of a KVM guest rewriting a 128 MiB
/// working set over a 32 MiB/s link, read with <c>x-query-migrate-history</c>), replayed through the engine's planner (<see cref="DefaultPassPlanner"/>):
/// every throttle and every switch-over decision the engine took must follow from the measurements it recorded. A
/// change to a decision shows here as the pass where it would have gone differently.
/// </summary>
public sealed class RecordedHistoryReplayTests
{
    private const long DowntimeLimitMs = MigrationParameters.DefaultDowntimeLimitMs;

    private static IReadOnlyList<PassReport> Load(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Policy", "Recorded", name);
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.EnumerateArray().Select(PassReportJson.FromJson).ToList();
    }

    [Fact]
    public void The_computed_throttle_and_the_switchover_follow_from_the_recorded_measurements()
    {
        var history = Load("kvm-seq128M-32MiBps-auto-converge.json");
        Assert.Equal("complete", history[^1].Decision);
        // The engine's own planner, fed each pass as the engine fed it: the report of the pass just sent (without its
        // decision), the passes before, the operator's settings, and the sync period with the throttle then in force.
        var planner = new DefaultPassPlanner();
        var parameters = new MigrationParameters();
        IReadOnlyList<int> inForce = [0];
        var precopy = history.Where(p => !p.Final).ToList();
        for (int i = 0; i < precopy.Count; i++)
        {
            var pass = precopy[i];
            var measured = new ThrottleMeasurement(TimeSpan.FromMilliseconds(pass.SyncPeriodMs!.Value), pass.WireBytes, pass.DirtyPages!.Value,
                pass.DirtyPagesPerVcpu, inForce, pass.WireBytesPerPage, pass.EstimatedBytesPerSecond, DowntimeLimitMs);
            var plan = planner.Plan(new PlanInputs
            {
                Pass = (uint)pass.Pass + 1,
                Latest = pass with { Decision = "", ThrottlePercent = inForce },
                History = precopy.Take(i).ToList(),
                Parameters = parameters,
                Capabilities = new HashSet<MigrationCapability> { MigrationCapability.AutoConverge },
                SyncPeriod = measured,
                GuestRamBytes = 1UL << 30,
                Elapsed = TimeSpan.FromMilliseconds(pass.StartMs + pass.SendMs),
            });
            Assert.NotNull(plan.Throttle);
            Assert.True(plan.Throttle.PercentPerVcpu.SequenceEqual(pass.ThrottlePercent!),
                $"pass {pass.Pass}: replayed throttle {string.Join('/', plan.Throttle.PercentPerVcpu)}, recorded {string.Join('/', pass.ThrottlePercent!)} ({plan.Throttle.Reason})");
            // The one decision that changed since the recording: its last live pass left 121 ms to send while the
            // guest, throttled, dirtied at 0.4 of the link's rate. It switched over then (the limit was the target);
            // the planner now sends one more live pass, since the stop after it would be about 48 ms.
            string expected = i == precopy.Count - 1 ? "continue" : pass.Decision;
            Assert.True(expected == plan.Action.ToQapi(), $"pass {pass.Pass}: replayed {plan.Action.ToQapi()} ({plan.Reason}), expected {expected}, recorded {pass.Decision}");
            if (i == precopy.Count - 1) Assert.Contains("one more live pass would leave about 48 ms", plan.Reason);
            Assert.False(string.IsNullOrWhiteSpace(plan.Reason));
            inForce = plan.Throttle.PercentPerVcpu;
        }
    }

    [Fact]
    public void The_recorded_migration_throttled_only_as_far_as_it_needed_and_converged()
    {
        var history = Load("kvm-seq128M-32MiBps-auto-converge.json");
        var precopy = history.Where(p => !p.Final).ToList();
        // Each pass after the throttle took hold was at most about half as long as the one before, as the computed
        // throttle aims for, until what was left fit the downtime limit.
        Assert.True(precopy[^1].ExpectedDowntimeMs <= DowntimeLimitMs);
        Assert.All(precopy.SelectMany(p => p.ThrottlePercent!), t => Assert.InRange(t, 0, 99));
        var shrinking = precopy.SkipWhile(p => p.DirtyPages >= precopy[0].DirtyPages).ToList();
        Assert.NotEmpty(shrinking);
        for (int i = 1; i < shrinking.Count; i++)
            Assert.True(shrinking[i].SendMs <= 0.65 * shrinking[i - 1].SendMs, $"pass {shrinking[i].Pass} took {shrinking[i].SendMs} ms after {shrinking[i - 1].SendMs} ms");
    }
}
