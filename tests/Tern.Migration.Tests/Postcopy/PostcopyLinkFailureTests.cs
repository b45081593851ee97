using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// The link breaks during the post-copy switch. Before Commit the VM is the source's: it runs there again and the
/// destination discards its copy. After Commit the guest is the destination's but some pages exist only on the
/// source: both sides stop with a clear error, the source paused with every page, the destination keeping its machine
/// with the guest's vCPUs waiting for their pages instead of running on wrong ones.
/// </summary>
[Collection(Tern.Migration.Tests.KvmCollection.Name)]
public sealed class PostcopyLinkFailureTests
{
    [Theory]
    [InlineData(MachineBackend.Sim)]
    [InlineData(MachineBackend.Kvm)]
    public void A_link_failure_before_Commit_leaves_the_guest_running_on_the_source(MachineBackend backend)
    {
        using var m = PostcopyRun.Create(backend, "seq:ws=16M");
        using var proxy = new FaultProxy(m.Uri, LinkFault.DropAt(MessageType.DeviceState));
        m.Source.Resume();
        var (source, run) = m.Start(via: proxy.Uri);
        source.StartPostcopy();
        m.Finish(source, run);

        Assert.True(proxy.Fired, "the link was never cut");
        Assert.True(source.Status == MigrationStatus.Failed, m.Describe(source));
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        Assert.Contains("the VM keeps running on the source", source.Info().ErrorDesc);
        Assert.Equal(MachineRunState.Running, m.Source.State);
        Assert.Equal(MigrationStatus.Failed, m.Destination.Status);
        Assert.Null(m.DestinationMachine);
        long beats = m.Source.Heartbeats.Count(0);
        Assert.True(SpinWait.SpinUntil(() => m.Source.Heartbeats.Count(0) > beats + 5, TimeSpan.FromSeconds(10)), "the guest does not run on the source");
    }

    [Fact]
    public void A_link_failure_after_Commit_pauses_both_sides_with_every_page_kept_and_the_destination_waiting_for_its_pages()
    {
        using var m = PostcopyRun.Create(MachineBackend.Sim, "random:ws=32M");
        using var proxy = new FaultProxy(m.Uri, LinkFault.DropAtFirstOf(MessageType.PostcopyPages, MessageType.PostcopyStreamEnd));
        m.Source.Resume();
        var (source, run) = m.Start(via: proxy.Uri);
        source.StartPostcopy();

        PostcopyRecoverySupport.WaitBothPaused(m, source);
        Assert.True(proxy.Fired, "the link was never cut");
        Assert.False(run.IsCompleted, "the source ended instead of pausing");
        Assert.Contains("post-copy paused: the main connection failed", source.Info().ErrorDesc);
        Assert.Equal(MachineRunState.Paused, m.Source.State);

        var error = m.Destination.Info().ErrorDesc!;
        Assert.Contains("are only on the source", error);
        var destination = m.DestinationMachine;
        Assert.NotNull(destination);
        Assert.Null(destination.Fault); // no vCPU ran on a page that never came
        Assert.NotEqual(MachineRunState.Destroyed, destination.State);
        Assert.False(m.DestinationRun.IsCompleted, "the destination ended instead of pausing");

        // Nobody recovers: shutting down ends both as before, the source still paused with every page.
        source.Dispose();
        m.FinishSource(source, run, TimeSpan.FromSeconds(30));
        Assert.Equal(MigrationOutcome.HandOverUncertain, source.Outcome);
        Assert.Equal(MachineRunState.Paused, m.Source.State);
    }
}
