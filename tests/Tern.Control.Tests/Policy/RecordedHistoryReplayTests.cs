using System.Text.Json;
using Tern.Control.Qapi;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Throttle;

namespace Tern.Control.Tests.Policy;

/// <summary>
/// A pass history recorded from a real migration (`tern migrate --auto-converge` of a KVM guest rewriting a 128 MiB
/// working set over a 32 MiB/s link, read with <c>x-query-migrate-history</c>), replayed through the pure decisions:
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
        var controller = new ComputedThrottle();
        int[] inForce = [0];
        foreach (var pass in history.Where(p => !p.Final))
        {
            var measured = new ThrottleMeasurement(TimeSpan.FromMilliseconds(pass.SyncPeriodMs!.Value), pass.WireBytes, pass.DirtyPages!.Value,
                pass.DirtyPagesPerVcpu, inForce, pass.WireBytesPerPage, pass.EstimatedBytesPerSecond, DowntimeLimitMs);
            var plan = controller.Next(measured, new ThrottleSettings());
            Assert.True(plan.PercentPerVcpu.SequenceEqual(pass.ThrottlePercent!),
                $"pass {pass.Pass}: replayed throttle {string.Join('/', plan.PercentPerVcpu)}, recorded {string.Join('/', pass.ThrottlePercent!)} ({plan.Reason})");

            var snapshot = new ConvergenceSnapshot(pass.Pass, pass.RemainingPages!.Value, pass.WireBytesPerPage, pass.EstimatedBytesPerSecond,
                pass.DirtyPagesPerSecond!.Value, DowntimeLimitMs);
            Assert.Equal(pass.Decision == "switchover", ConvergencePolicy.ShouldSwitchOver(snapshot));
            inForce = plan.PercentPerVcpu.ToArray();
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
