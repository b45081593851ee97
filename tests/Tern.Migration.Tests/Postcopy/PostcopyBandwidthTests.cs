using Tern.Guest;
using Tern.Machine;
using Tern.Memory;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// After the switch the background stream is paced by max-postcopy-bandwidth (0, QEMU's default: unlimited), not by
/// pre-copy's max-bandwidth: a guest resumed on the destination waits on every page the stream has not brought, so
/// the link cap of pre-copy would stretch post-copy to the cap's pace. The guest fills its slice once and rests, so
/// it does not fetch its stale pages itself: only the background stream brings them.
/// </summary>
public sealed class PostcopyBandwidthTests
{
    /// <summary>Pre-copy's cap after the first pass: the stale pages at this pace would take a minute or more.</summary>
    private const ulong PrecopyCapAfterFirstPass = 64 << 10;

    [Fact]
    public void The_background_stream_is_not_paced_by_max_bandwidth_once_the_guest_runs_on_the_destination()
    {
        // 8 MiB/s of fresh pages while a 2 MiB/s first pass runs: several MiB are written behind it, then the guest rests.
        const string workload = "fill:ws=24M,rate=8";
        using var m = PostcopyRun.Create(MachineBackend.Sim, workload, vcpus: 1);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 2 << 20 });
        m.Source.Resume();
        Thread.Sleep(500);
        var (source, run) = m.Start(s => s.Event += e =>
        {
            if (e is MigrationPassCompleted) m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = PrecopyCapAfterFirstPass });
        });
        source.StartPostcopy();
        Assert.True(SpinWait.SpinUntil(() => m.Destination.Info().Postcopy is not null || m.Destination.Status.IsFinished(), TimeSpan.FromSeconds(60)),
            $"post-copy never began; {m.Describe(source)}");
        var stale = m.Destination.Info().Postcopy?.StalePages ?? 0;
        Assert.True(stale >= 256, $"only {stale} pages were stale at the switch: too few to tell the two paces apart");
        // At the pre-copy cap the stale pages would take stale x 4 KiB / 64 KiB/s (at least 16 s); allow half of that.
        var paced = TimeSpan.FromSeconds(stale * 4096.0 / PrecopyCapAfterFirstPass);
        m.Finish(source, run, paced / 2);

        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        var post = m.Destination.Info().Postcopy!;
        Assert.True(post.PagesRequested < stale / 2, $"the guest fetched {post.PagesRequested} of the {stale} stale pages itself: the test measures the urgent lane, not the stream");
        Assert.True(source.Info().Verification is { Matched: true });
        // The guest may have finished its fill and rest: check its RAM against its model without waiting for progress.
        var destination = m.DestinationMachine!;
        destination.Pause();
        var model = new WorkloadModel(GuestLayout.Compute(WorkloadSpec.Parse(workload), PostcopyRun.Memory, 1));
        var report = model.Verify(destination.Memory.GetSpan(GuestAddress.Zero, (int)PostcopyRun.Memory), KvmGuests.Counters(model, destination));
        Assert.True(report.IsExact, report.ToString());
    }
}
