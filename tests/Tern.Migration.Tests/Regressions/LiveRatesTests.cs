using Tern.Migration.Api;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Tests.Failures;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// query-migrate's mbps and pages-per-second are live during a long pass; they were once updated only when a pass
/// ended, so a slow first pass showed zeros for its whole length.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class LiveRatesTests
{
    [Fact]
    public void Mbps_and_pages_per_second_are_reported_during_the_first_pass()
    {
        using var m = LocalMigration.Sim("random:ws=32M", 64 << 20, vcpus: 1);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 4 << 20 }); // 32 MiB at 4 MiB/s: about 8 s
        m.Source.Resume();
        // Eight random writes per page of the working set: nearly every page written, so the first pass carries about
        // 32 MiB and lasts about 8 s. A fixed sleep left a loaded machine's guest barely written and the pass short.
        GuestProgress.WaitUntil(m.Source, 8 * (32UL << 20) / 4096);

        var (source, run) = m.Start();
        RamStats? live = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(6);
        while (DateTime.UtcNow < deadline && live is null)
        {
            Thread.Sleep(50);
            if (source.Info().Ram is { } ram && ram.DirtySyncCount == 0 && ram.Mbps > 0 && ram.PagesPerSecond > 0) live = ram;
        }
        bool firstPassStillRunning = source.Counters.DirtySyncCount == 0;
        source.Cancel();
        m.Finish(source, run, TimeSpan.FromSeconds(20));

        Assert.True(live is not null, $"no live rates during the first pass: {source.Info().Ram}");
        Assert.True(firstPassStillRunning, "the first pass ended before the check (the test needs a longer pass)");
        // The rate respects the 4 MiB/s cap (with room for the token bucket's burst).
        Assert.InRange(live.Mbps, 0.1, 4 * 8 * 1.049 * 2);
    }
}
