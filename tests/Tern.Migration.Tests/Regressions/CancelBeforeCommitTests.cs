using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Tests.Failures;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// A cancel that arrives after the destination's Ready but before Commit is written must leave the VM on the source:
/// Commit never went out, so the destination cannot be running it. (It once ended as "both sides paused".)
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class CancelBeforeCommitTests
{
    [Fact]
    public void A_cancel_between_Ready_and_Commit_resumes_the_source_and_the_destination_discards_its_copy()
    {
        using var m = LocalMigration.Sim("random:ws=8M", 64 << 20);
        m.Source.Resume();
        var (source, run) = m.Start(s => s.Event += e =>
        {
            if (e is MigrationDestinationReady) s.Cancel();
        });
        m.Finish(source, run, TimeSpan.FromSeconds(30));

        Assert.True(source.Status == MigrationStatus.Cancelled, m.Describe(source));
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        Assert.Contains("cancelled", source.Info().ErrorDesc);
        GuestProgress.AssertRunning(m.Source, m.Describe(source));
        Assert.Equal(DestinationState.Discarded, m.Destination.State);
        Assert.Null(m.Destination.Machine);
        Assert.Contains("cancelled", m.Destination.Info().ErrorDesc);
    }
}
