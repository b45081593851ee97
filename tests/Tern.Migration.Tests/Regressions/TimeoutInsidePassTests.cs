using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Tests.Failures;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// x-timeout ends a migration even in the middle of a long pass. It was once checked only between passes, so a slow
/// first pass (here 32 MiB at 512 KiB/s, about a minute) ran to its end first.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class TimeoutInsidePassTests
{
    [Fact]
    public void The_timeout_ends_a_long_first_pass_and_the_VM_stays_on_the_source()
    {
        using var m = LocalMigration.Sim("random:ws=32M", 64 << 20, vcpus: 1);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 512 << 10, TimeoutMs = 500 });
        m.Source.Resume();
        Thread.Sleep(200); // the guest touches its whole working set, so the first pass has 32 MiB to send

        var (source, run) = m.Start();
        m.Finish(source, run, TimeSpan.FromSeconds(20));

        Assert.True(source.Status == MigrationStatus.Failed, m.Describe(source));
        Assert.Contains("x-timeout", source.Info().ErrorDesc);
        Assert.Contains("pass 1", source.Info().ErrorDesc);
        Assert.Equal(0, source.Counters.DirtySyncCount); // it ended inside the first pass
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        GuestProgress.AssertRunning(m.Source, m.Describe(source));
        Assert.Null(m.Destination.Machine);
    }
}
