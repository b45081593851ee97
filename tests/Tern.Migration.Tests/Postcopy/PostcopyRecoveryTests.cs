using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;
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
        Assert.Contains("main connection", paused.ErrorDesc);
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
}
