using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Failures;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Trust;

/// <summary>
/// The same checks as <see cref="LyingDestinationTests"/> against peers no test was written for: each run draws a
/// few (lie, frame) pairs from a seed that changes per run, so that over many runs lies land at every point of the
/// protocol. The seed is in every failure message; TERN_TRUST_SEED=n replays a run.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class RandomLiesTests(ITestOutputHelper output)
{
    /// <summary>Peers per run: each is settled within a few seconds (the shortened reply timeout and stall limit, or the switchover deadline).</summary>
    private const int Peers = 6;

    private static readonly Lie[] Lies = Enum.GetValues<Lie>();

    [Fact]
    public void The_source_never_gives_up_its_VM_to_a_peer_that_did_not_earn_it_nor_keeps_it_paused_past_the_bound()
    {
        int seed = Environment.GetEnvironmentVariable("TERN_TRUST_SEED") is { } fixedSeed ? int.Parse(fixedSeed) : Random.Shared.Next();
        var random = new Random(seed);
        for (int i = 0; i < Peers; i++)
        {
            var lie = Lies[random.Next(Lies.Length)];
            // Frames the source sends: Hello, the passes, the switchover, Commit. About 30 over an unlimited link and
            // 55 at 32 MiB/s (smaller batches when the link is the bottleneck); a lie drawn past the end never lands.
            ulong bandwidth = random.Next(2) == 0 ? 0 : 32ul << 20;
            int frame = random.Next(1, bandwidth == 0 ? 36 : 60);
            string replay = $"seed {seed}, peer {i}: {lie} at frame {frame}, max-bandwidth {bandwidth}; replay with TERN_TRUST_SEED={seed}";
            Check(lie, frame, bandwidth, replay);
        }
    }

    private void Check(Lie lie, int frame, ulong bandwidth, string replay)
    {
        using var run = new LyingPeerRun(new LyingDestination(lie, frame), LyingPeerRun.Converging, bandwidth);
        var source = run.Migrate();
        var context = $"{replay}\n{run.Describe(source)}";

        if (source.Outcome is MigrationOutcome.Completed or MigrationOutcome.HandOverUncertain)
        {
            // The source committed: only to a peer that had answered Complete with one Ready and nothing else. From
            // then on the VM may be the peer's, and the source must never run it again on its own.
            Assert.True(run.Destination.EarnedCommit, "the source committed to a peer that did not earn it; " + context);
            Assert.True(run.Guest.State == MachineRunState.Paused, context);
        }
        else
        {
            Assert.True(run.Destination.Lied, "an honest peer always gets Commit; " + context);
            run.AssertSourceKeptTheVm(source, replay);
        }
        output.WriteLine($"{replay}: {source.Outcome} after {run.Destination.Received.Count} frames, " +
            $"longest pause {run.LongestPause.TotalMilliseconds:0} ms ({source.Info().ErrorDesc})");
    }
}
