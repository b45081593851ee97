using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Tests.Failures;

namespace Tern.Migration.Tests.Regressions;

/// <summary>Like QEMU, the source announces "setup" first: MIGRATION events go setup, active, completed.</summary>
[Collection(FaultCollection.Name)]
public sealed class SetupEventTests
{
    [Fact]
    public void The_source_emits_setup_then_active_then_completed()
    {
        using var m = LocalMigration.Sim("idle", 64 << 20, vcpus: 1);
        m.Source.Resume();
        var statuses = new List<MigrationStatus>();
        var (source, run) = m.Start(s => s.Event += e =>
        {
            if (e is MigrationStatusChanged c) lock (statuses) statuses.Add(c.Status);
        });
        m.Finish(source, run, TimeSpan.FromSeconds(30));

        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        lock (statuses) Assert.Equal([MigrationStatus.Setup, MigrationStatus.Active, MigrationStatus.Completed], statuses);
    }
}
