using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Failures;

/// <summary>
/// migrate_cancel in every phase: the migration stops promptly, the VM keeps running on the source (resumed if the
/// switchover had paused it), and the destination discards its copy knowing it was a cancel.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class CancelPhaseTests
{
    [Fact]
    public void Cancel_during_setup_while_waiting_for_the_destination_to_answer()
    {
        using var s = new FailureScenario(FailureScenario.Converging, LinkFault.BlackholeAt(MessageType.Hello));
        var (source, run) = s.Start();
        Assert.True(s.Proxy.WaitFired(TimeSpan.FromSeconds(10)), "the Hello never went out");
        source.Cancel();
        s.Migration.FinishSource(source, run);

        Assert.True(source.Status == MigrationStatus.Cancelled, s.Migration.Describe(source));
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        GuestProgress.AssertRunning(s.Migration.Source, s.Migration.Describe(source));
        Assert.Equal("cancelled by the operator", s.SourceError(source));
        // It never heard a whole Hello, only the connection ending: no migration began there.
        Assert.True(SpinWait.SpinUntil(() => s.Migration.Log.Any(l => l.Contains("before it said Hello")), TimeSpan.FromSeconds(10)),
            s.Migration.Describe(source));
        Assert.Equal(MigrationStatus.None, s.Migration.Destination.Status);
    }

    [Fact]
    public void Cancel_during_the_first_pass()
    {
        using var s = new FailureScenario(FailureScenario.NeverConverging, maxBandwidth: FailureScenario.SlowLink);
        var (source, run) = s.Start();
        Assert.True(SpinWait.SpinUntil(() => source.Counters.Transferred > (256 << 10), TimeSpan.FromSeconds(10)), "no data flowed");
        Assert.Equal(0, source.Counters.DirtySyncCount);
        source.Cancel();
        s.Finish(source, run);

        s.AssertSourceKeptTheVm(source, MigrationStatus.Cancelled);
        Assert.Contains("the source cancelled the migration", s.DestinationError);
    }

    [Fact]
    public void Cancel_at_a_later_pass()
    {
        using var s = new FailureScenario(FailureScenario.NeverConverging, maxBandwidth: FailureScenario.SlowLink);
        var (source, run) = s.Start(m => m.Event += e =>
        {
            if (e is MigrationPassStarted { Pass: 3 }) m.Cancel();
        });
        s.Finish(source, run);

        s.AssertSourceKeptTheVm(source, MigrationStatus.Cancelled);
        Assert.Equal(2, source.Counters.DirtySyncCount);
        Assert.Contains("the source cancelled the migration", s.DestinationError);
    }

    [Fact]
    public void Cancel_in_the_final_pass_with_the_guest_paused()
    {
        using var s = new FailureScenario(FailureScenario.Converging);
        bool switchingOver = false;
        var (source, run) = s.Start(m => m.Event += e =>
        {
            if (e is MigrationSwitchoverStarted) switchingOver = true;
            else if (e is MigrationPassStarted && switchingOver)
            {
                Assert.Equal(Tern.Machine.MachineRunState.Paused, s.Migration.Source.State);
                m.Cancel();
            }
        });
        s.Finish(source, run);

        Assert.True(switchingOver, "the migration never reached the switchover");
        s.AssertSourceKeptTheVm(source, MigrationStatus.Cancelled);
        Assert.Contains("the source cancelled the migration", s.DestinationError);
    }

    [Fact]
    public void Cancel_after_the_destination_is_ready_and_before_the_commit()
    {
        using var s = new FailureScenario(FailureScenario.Converging);
        var (source, run) = s.Start(m => m.Event += e =>
        {
            if (e is MigrationDestinationReady) m.Cancel();
        });
        s.Finish(source, run);

        s.AssertSourceKeptTheVm(source, MigrationStatus.Cancelled);
        Assert.Contains("the source cancelled the migration", s.DestinationError);
    }
}
