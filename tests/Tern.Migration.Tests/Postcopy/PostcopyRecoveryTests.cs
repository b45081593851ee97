using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;
using Tern.Migration.Transport;
using static Tern.Migration.Tests.Postcopy.PostcopyRecoverySupport;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// The link breaks after the post-copy switch (a proxy resets it early in the background stream, or in its middle):
/// neither side fails. Both pause in postcopy-paused with every page kept and the error naming the broken connection;
/// recovery on a NEW connection (migrate-recover on a new port, migrate with resume) reconciles the missing pages and the
/// migration completes with memory verified byte for byte and the guest exact on the destination.
/// </summary>
[Collection(Tern.Migration.Tests.KvmCollection.Name)]
public sealed class PostcopyRecoveryTests
{
    public static TheoryData<MachineBackend, string> Cuts => new()
    {
        { MachineBackend.Sim, "early" },
        { MachineBackend.Sim, "mid-stream" },
        { MachineBackend.Kvm, "early" }, // KVM's vCPUs fault in the kernel: they must wait through the pause and go on
    };

    private static LinkFault Cut(string where) => where == "early"
        ? LinkFault.DropAtFirstOf(MessageType.PostcopyPages, MessageType.PostcopyStreamEnd)
        : LinkFault.DropInBackgroundStream(20);

    [Theory]
    [MemberData(nameof(Cuts))]
    public void A_link_cut_after_the_switch_pauses_both_sides_and_recovery_on_a_new_connection_completes_verified(MachineBackend backend, string where)
    {
        const string workload = "random:ws=32M";
        using var m = PostcopyRun.Create(backend, workload);
        using var proxy = new FaultProxy(m.Uri, Cut(where));
        var statuses = new List<MigrationStatus>();
        m.Source.Resume();
        var (source, run) = m.Start(s => s.Event += e => { if (e is MigrationStatusChanged c) lock (statuses) statuses.Add(c.Status); }, via: proxy.Uri);
        source.StartPostcopy();

        WaitBothPaused(m, source);
        Assert.True(proxy.Fired, "the link was never cut");
        Assert.Equal(MachineRunState.Paused, m.Source.State);
        Assert.Contains("post-copy paused", source.Info().ErrorDesc);
        var paused = m.Destination.Info();
        Assert.Contains("are only on the source", paused.ErrorDesc);
        // Whichever connection the destination found broken first (the proxy resets the main one, the source then closes
        // the lane), reading or writing a page request (a CI run saw the request's write fail first).
        Assert.Matches(@"(the main connection|the urgent lane) failed( while asking the source for missing pages)? \((Connection reset by peer|Broken pipe|the source went away)", paused.ErrorDesc);
        Assert.True(paused.Postcopy is { MissingPages: > 0 }, "every page had arrived before the cut");
        Assert.Null(m.DestinationMachine!.Fault);

        using (Recover(m, source))
        {
            m.Finish(source, run);
        }
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.Equal(MigrationStatus.Completed, m.Destination.Status);
        Assert.True(source.Info().Verification is { Matched: true }, $"verification: {source.Info().Verification}");
        lock (statuses)
            Assert.Equal([MigrationStatus.PostcopyActive, MigrationStatus.PostcopyPaused, MigrationStatus.PostcopyRecover, MigrationStatus.PostcopyActive, MigrationStatus.Completed],
                statuses.SkipWhile(s => s != MigrationStatus.PostcopyActive));
        var post = m.Destination.Info().Postcopy!;
        Assert.Equal(0, post.MissingPages);
        Assert.Equal(1, post.Recoveries);
        PostcopyRun.VerifyDestination(m, workload);
    }

    /// <summary>
    /// The link is reset as the source writes Commit, which never reaches the destination (its first byte was written:
    /// the source has committed). Neither side may give up the VM: the source holds every page, the destination a
    /// restored, paused copy that never ran. Both pause; the recovery is the commit, and the guest resumes on the
    /// destination and completes exact.
    /// </summary>
    [Theory]
    [InlineData(MachineBackend.Sim)]
    [InlineData(MachineBackend.Kvm)]
    public void A_link_cut_as_Commit_is_sent_pauses_both_sides_and_recovery_runs_the_guest_on_the_destination(MachineBackend backend)
    {
        const string workload = "random:ws=32M";
        using var m = PostcopyRun.Create(backend, workload);
        using var proxy = new FaultProxy(m.Uri, LinkFault.DropAt(MessageType.Commit));
        m.Source.Resume();
        var (source, run) = m.Start(via: proxy.Uri);
        source.StartPostcopy();

        WaitBothPaused(m, source);
        Assert.True(proxy.Fired, "the link was never cut");
        Assert.False(run.IsCompleted, "the source ended instead of pausing");
        Assert.Equal(MachineRunState.Paused, m.Source.State);
        Assert.Contains("post-copy paused", source.Info().ErrorDesc);
        var paused = m.Destination.Info();
        Assert.Contains("post-copy paused before the guest ran here", paused.ErrorDesc);
        Assert.Contains("the source's Commit did not arrive", paused.ErrorDesc);
        Assert.Null(m.DestinationMachine); // the guest has not run here

        using (Recover(m, source))
        {
            m.Finish(source, run);
        }
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.Equal(MigrationOutcome.Completed, source.Outcome);
        Assert.Equal(MigrationStatus.Completed, m.Destination.Status);
        Assert.True(source.Info().Verification is { Matched: true }, $"verification: {source.Info().Verification}");
        Assert.Contains(m.Log, l => l.Contains("the source resumed a post-copy whose Commit was lost", StringComparison.Ordinal));
        Assert.Equal(1, m.Destination.Info().Postcopy!.Recoveries);
        PostcopyRun.VerifyDestination(m, workload);
    }

    /// <summary>
    /// The urgent lane stalls (its writes stop, as a peer that stopped reading) with page requests outstanding, and the
    /// operator pauses the migration on the source (migrate-pause): after recovery the destination asks again for the
    /// pages it had requested and not received (its vCPUs wait for exactly those), and the migration completes.
    /// </summary>
    [Fact]
    public void Requests_outstanding_when_the_link_breaks_are_asked_again_on_the_recovered_lane()
    {
        const string workload = "random:ws=32M";
        using var m = PostcopyRun.Create(MachineBackend.Sim, workload);
        // Connection 1 is the urgent lane: a few answers go through (a restore may need them), then its writes stall.
        var lane = new FaultTransport(m.Uri.CreateTransport(), TransportFault.StallAfter(64 << 10), connection: 1);
        int slowed = 0;
        m.Source.Resume();
        var (source, run) = m.Start(s => s.Event += e =>
        {
            // A slow background stream, so that the stalled requests are not all answered by it.
            if (e is MigrationStatusChanged { Status: MigrationStatus.PostcopyActive } && Interlocked.Exchange(ref slowed, 1) == 0)
                m.Settings.SetParameters(new MigrationParameters { MaxPostcopyBandwidth = 1 << 20 });
        }, over: lane);
        source.StartPostcopy();
        Assert.True(lane.WaitFired(Patience), $"the urgent lane never stalled: {m.Describe(source)}");
        Assert.True(SpinWait.SpinUntil(() => source.Status == MigrationStatus.PostcopyActive, Patience), m.Describe(source));

        source.PausePostcopy();
        WaitBothPaused(m, source);
        Assert.Contains("migrate-pause on the source", source.Info().ErrorDesc);
        Assert.Equal(0, m.Destination.Info().Postcopy!.RequestsRepeated);
        m.Settings.SetParameters(new MigrationParameters { MaxPostcopyBandwidth = 0 });
        using (Recover(m, source))
        {
            m.Finish(source, run);
        }
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.True(source.Info().Verification is { Matched: true }, $"verification: {source.Info().Verification}");
        var post = m.Destination.Info().Postcopy!;
        Assert.True(post.RequestsRepeated > 0, $"no request was asked again after the recovery: {m.Describe(source)}");
        PostcopyRun.VerifyDestination(m, workload);
    }

    /// <summary>
    /// The link hangs in the background stream, every connection at once and both ways, with no reset (a cable pulled,
    /// a veth taken down): the destination notices the silence by itself within its progress window and pauses, with
    /// the reason; the operator pauses the source (migrate-pause), and recovery completes verified.
    /// </summary>
    [Fact]
    public void A_link_that_hangs_without_a_reset_pauses_the_destination_by_itself_and_recovery_completes()
    {
        const string workload = "random:ws=32M";
        var window = TimeSpan.FromSeconds(2);
        using var m = PostcopyRun.Create(MachineBackend.Sim, workload, destinationLimits: new DestinationLimits { ProgressWindow = window });
        using var proxy = new FaultProxy(m.Uri, LinkFault.HangInBackgroundStream(5));
        m.Source.Resume();
        var (source, run) = m.Start(via: proxy.Uri);
        source.StartPostcopy();
        Assert.True(proxy.WaitFired(Patience), $"the link never hung: {m.Describe(source)}");
        var hungAt = System.Diagnostics.Stopwatch.StartNew();

        Assert.True(SpinWait.SpinUntil(() => m.Destination.Status == MigrationStatus.PostcopyPaused, Patience),
            $"the destination did not notice the hung link: {m.Describe(source)}");
        Assert.True(hungAt.Elapsed >= window - TimeSpan.FromMilliseconds(500), $"paused {hungAt.Elapsed} after the hang, before its window of {window}");
        var paused = m.Destination.Info();
        Assert.Contains("no data from the source on any post-copy connection for 2 s (the link hangs)", paused.ErrorDesc);
        Assert.True(paused.Postcopy is { MissingPages: > 0 }, "every page had arrived before the hang");
        Assert.Null(m.DestinationMachine!.Fault);
        Assert.Equal(MigrationStatus.PostcopyActive, source.Status); // nothing reached the source: it has not noticed yet

        source.PausePostcopy();
        WaitBothPaused(m, source);
        using (Recover(m, source))
        {
            m.Finish(source, run);
        }
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.True(source.Info().Verification is { Matched: true }, $"verification: {source.Info().Verification}");
        Assert.Equal(1, m.Destination.Info().Postcopy!.Recoveries);
        PostcopyRun.VerifyDestination(m, workload);
    }

    /// <summary>The recovered link breaks too (mid background stream): both sides pause again, and a second recovery on yet another port completes.</summary>
    [Fact]
    public void A_recovery_whose_link_breaks_pauses_again_and_recovers_again()
    {
        const string workload = "random:ws=32M";
        using var m = PostcopyRun.Create(MachineBackend.Sim, workload);
        using var first = new FaultProxy(m.Uri, LinkFault.DropAtFirstOf(MessageType.PostcopyPages, MessageType.PostcopyStreamEnd));
        m.Source.Resume();
        var (source, run) = m.Start(via: first.Uri);
        source.StartPostcopy();
        WaitBothPaused(m, source);

        // The first recovery goes through a proxy that cuts its main connection in the background stream.
        var listener = Tern.Migration.Transport.MigrationUri.Parse("tcp:127.0.0.1:0").CreateTransport().Listen();
        using var recovery = new PostcopyRecoveryListener(listener, m.Destination);
        using var second = new FaultProxy(Tern.Migration.Transport.MigrationUri.Parse(listener.Address), LinkFault.DropInBackgroundStream(5));
        m.Destination.RecoverPostcopy();
        source.ResumePostcopy(second.Uri.CreateTransport());
        Assert.True(second.WaitFired(Patience), $"the recovered link was never cut: {m.Describe(source)}");
        WaitBothPaused(m, source);
        Assert.Contains("post-copy paused", m.Destination.Info().ErrorDesc);

        using (Recover(m, source))
        {
            m.Finish(source, run);
        }
        listener.Dispose();
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.True(source.Info().Verification is { Matched: true }, $"verification: {source.Info().Verification}");
        Assert.Equal(2, m.Destination.Info().Postcopy!.Recoveries);
        PostcopyRun.VerifyDestination(m, workload);
    }
}
