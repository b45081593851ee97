using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Failures;

/// <summary>
/// The one failure that cannot be decided automatically: the source wrote Commit, the link broke before Resumed came
/// back. Neither side can know whether the other runs the VM, so both stay paused, say so, and keep the VM's memory
/// for the operator's `cont` on one side.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class CommitLostTests
{
    [Fact]
    public void A_link_lost_after_Commit_leaves_both_sides_paused_and_saying_so()
    {
        using var s = new FailureScenario(FailureScenario.Converging, LinkFault.DropAt(MessageType.Commit));
        var (source, run) = s.Start();
        s.Finish(source, run);
        var context = s.Migration.Describe(source);

        Assert.True(s.Proxy.Fired, context);
        Assert.True(source.Status == MigrationStatus.Failed, context);
        Assert.Equal(MigrationOutcome.HandOverUncertain, source.Outcome);
        Assert.Contains("both sides are paused", s.SourceError(source));
        Assert.Equal(MachineRunState.Paused, s.Migration.Source.State);
        // Tracking stops after the stop now, not inside it: a source left paused must not track if the operator resumes it.
        Assert.False(s.Migration.Source.DirtyTracker.IsTracking, "the source still tracks dirty pages");

        Assert.Equal(DestinationState.HandOverUncertain, s.Migration.Destination.State);
        Assert.Contains("holds a complete, paused copy", s.DestinationError);
        var copy = Assert.IsType<Tern.Machine.Sim.SimMachine>(s.Migration.Destination.Machine);
        Assert.Equal(MachineRunState.Paused, copy.State);

        // The operator picks the destination: it runs from the state the source left, and the source stays paused.
        var atPause = ((Tern.Machine.Sim.SimMachine)s.Migration.Source).ReadCounters();
        copy.Resume();
        GuestProgress.AssertRunning(copy, context);
        Assert.True(copy.ReadCounters().Zip(atPause).All(p => p.First > p.Second), "the copy continues from where the source stopped");
        Assert.Equal(MachineRunState.Paused, s.Migration.Source.State);
        copy.Dispose();
    }
}
