using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// A running guest switched to post-copy after the first pass (the operator's migrate-start-postcopy) resumes on the
/// destination before its stale pages have arrived, fetches them on demand and in the background, and ends with every
/// byte as its model says and the page digests equal. Real sockets, both backends.
/// </summary>
[Collection(Tern.Migration.Tests.KvmCollection.Name)]
public sealed class PostcopyMigrationTests
{
    [Theory]
    [InlineData(MachineBackend.Sim)]
    [InlineData(MachineBackend.Kvm)]
    public void A_seq_guest_switched_to_postcopy_after_the_first_pass_completes_verified_and_exact(MachineBackend backend)
    {
        const string workload = "seq:ws=16M";
        using var m = PostcopyRun.Create(backend, workload);
        m.Source.Resume();
        Thread.Sleep(200);
        var statuses = new List<MigrationStatus>();
        var (source, run) = m.Start(s => s.Event += e => { if (e is MigrationStatusChanged c) lock (statuses) statuses.Add(c.Status); });
        source.StartPostcopy();
        m.Finish(source, run);

        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.Equal(MigrationOutcome.Completed, source.Outcome);
        Assert.Equal(MigrationStatus.Completed, m.Destination.Status);
        lock (statuses) Assert.Contains(MigrationStatus.PostcopyActive, statuses);
        var info = source.Info();
        Assert.True(info.Verification is { Matched: true }, $"verification: {info.Verification}");
        Assert.True(info.Ram!.PostcopyBytes > 0, "nothing was sent after the switch");
        Assert.Single(source.History); // one pre-copy pass, then post-copy
        Assert.Equal("postcopy", source.History[0].Decision);
        Assert.Equal(MachineRunState.Paused, m.Source.State);

        var post = m.Destination.Info().Postcopy!;
        Assert.True(post.StalePages > 0, "no page was stale at the switch");
        // The pages dirty at the end of the first pass held pass 1's copies: dropped before the pause, not in it, or (a
        // working set larger than the rest of what the destination holds) kept and written over in place.
        Assert.True(post.DroppedAheadPages > 0 || post.StalePageHandling == "overwrite",
            $"no stale page was dropped ahead of the pause, nor written over: {m.Describe(source)}");
        Assert.True(post.DroppedAheadPages <= post.StalePages, $"{post.DroppedAheadPages} dropped ahead, {post.StalePages} stale");
        Assert.Equal(Tern.Os.Userfault.UserfaultFd.SupportsMinorShmem ? "overwrite" : "drop", post.StalePageHandling);
        Assert.Equal(0, post.MissingPages);
        Assert.NotNull(post.LastPageMs);
        Assert.Equal(post.PagesRequested, post.FaultLatencyCounts.Sum());
        PostcopyRun.VerifyDestination(m, workload);
    }

    /// <summary>
    /// A first pass slower than the guest rewrites its working set (16 MiB/s against 32 MiB): the pages written again
    /// before the pass reached them are left for post-copy instead of going twice, and the guest still arrives exact.
    /// </summary>
    [Theory]
    [InlineData(MachineBackend.Sim)]
    [InlineData(MachineBackend.Kvm)]
    public void Pages_the_guest_rewrites_ahead_of_a_slow_first_pass_go_once_in_post_copy(MachineBackend backend)
    {
        const string workload = "seq:ws=32M";
        using var m = PostcopyRun.Create(backend, workload);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 16 << 20 });
        m.Source.Resume();
        Thread.Sleep(200);
        var (source, run) = m.Start();
        source.StartPostcopy();
        m.Finish(source, run);

        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.True(source.Info().Verification is { Matched: true }, m.Describe(source));
        var first = Assert.Single(source.History);
        Assert.True(first.DeferredPages > 0, $"the first pass deferred nothing: {m.Describe(source)}");
        // What the pass left went in post-copy, once: the stale pages include every deferred one.
        Assert.True(m.Destination.Info().Postcopy!.StalePages >= first.DeferredPages, m.Describe(source));
        Assert.Contains(m.Log, l => l.Contains($"pass 1: {first.DeferredPages} pages the guest wrote again before the pass reached them", StringComparison.Ordinal));
        PostcopyRun.VerifyDestination(m, workload);
    }

    /// <summary>
    /// The same slow first pass without post-copy asked for defers nothing: the syncs that find the pages would cost the
    /// guest a write fault per page it rewrites, for pages that a pre-copy sends again anyway.
    /// </summary>
    [Fact]
    public void Without_post_copy_asked_for_the_first_pass_sends_every_page()
    {
        using var m = PostcopyRun.Create(MachineBackend.Sim, "seq:ws=32M");
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 16 << 20, TimeoutMs = 4000 });
        m.Source.Resume();
        Thread.Sleep(200);
        var source = m.Run();

        Assert.Contains("did not converge", source.Info().ErrorDesc); // the guest outruns the link: it never converges
        // Every page of RAM went in the first pass (its 32 MiB working set alone takes 2 s at 16 MiB/s: long enough for
        // syncs in its middle, had they been made).
        var first = source.History[0];
        Assert.Equal((long)(PostcopyRun.Memory / 4096), first.NormalPages + first.ZeroPages);
        Assert.Equal(0, first.DeferredPages);
    }
}
