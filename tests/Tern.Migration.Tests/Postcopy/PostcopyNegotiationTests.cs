using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// A destination that did not accept the post-copy capability (an older Tern) never sees a post-copy message: the
/// source refuses migrate-start-postcopy, saying why, and the migration completes in pre-copy.
/// </summary>
public sealed class PostcopyNegotiationTests
{
    [Fact]
    public void A_destination_without_the_postcopy_capability_gets_a_precopy_migration_and_the_request_is_refused()
    {
        // Welcomes with no capability at all, and is honest otherwise (Ready on Complete, Resumed on Commit).
        using var destination = new LyingDestination(LieStep.Complete, Lie.Ready);
        using var machine = SimMachine.Create(new SimMachineOptions(16 << 20, 1, WorkloadSpec.Parse("seq:ws=4M")));
        var settings = new MigrationSettings();
        settings.SetCapability(MigrationCapability.PostcopyRam, true);
        settings.SetParameters(new MigrationParameters { MaxBandwidth = 8 << 20, DowntimeLimitMs = 2000 });
        machine.Resume();
        using var source = new MigrationSource(machine, settings);
        var run = source.RunAsync(destination.Uri);
        Assert.True(SpinWait.SpinUntil(() => source.Status != MigrationStatus.Setup, TimeSpan.FromSeconds(30)), "the source never left the setup");

        var refused = Assert.Throws<InvalidOperationException>(source.StartPostcopy);
        Assert.Contains("does not support post-copy", refused.Message);
        Assert.True(SpinWait.SpinUntil(() => run.IsCompleted, TimeSpan.FromSeconds(60)), $"the migration did not finish: {source.Status}");
        Assert.True(source.Status == MigrationStatus.Completed, source.Info().ErrorDesc);
        Assert.DoesNotContain(destination.Received, t => t is >= MessageType.PostcopyBegin and <= MessageType.PostcopyDiscarded);
        Assert.DoesNotContain(MessageType.ChannelHello, destination.Received);
    }
}
