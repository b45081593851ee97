using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Failures;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Trust;

/// <summary>
/// The source against a destination that lies or hangs at each step of the protocol (real sockets, a running
/// simulated guest). Before Commit is written the VM is the source's: a reply out of place fails the migration with
/// an error naming the message and the state, a hang is bounded (the reply timeout before the switchover, the
/// downtime limit plus its margin during it), and the guest runs again on the source.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class LyingDestinationTests
{
    [Theory]
    // The case: Hello answered with Welcome, Ready and Resumed at once made the source commit.
    [InlineData(LieStep.Hello, Lie.ReadyAndResumed, "sent Ready while the source was still sending the guest")]
    [InlineData(LieStep.FirstPass, Lie.Ready, "sent Ready while the source was still sending the guest")]
    [InlineData(LieStep.FirstPass, Lie.Resumed, "sent Resumed while the source was still sending the guest")]
    [InlineData(LieStep.FinalPass, Lie.Ready, "sent Ready while the source was still sending the guest")]
    // Ready sent before Complete was read, arriving after Complete went out: only the token tells it from an answer.
    [InlineData(LieStep.DeviceState, Lie.ReadyCrossingNextFrame, "sent Ready with hand-over token 0x0000000000000000, not the one Complete carried")]
    [InlineData(LieStep.Complete, Lie.ReadyTwice, "sent Ready while the source was committing (Ready had already arrived): Ready comes once")]
    [InlineData(LieStep.Complete, Lie.ReadyAndResumed, "sent Resumed while the source was committing (Ready had already arrived): a destination may resume the guest only on Commit")]
    public void A_reply_out_of_place_fails_the_migration_before_commit(LieStep at, Lie lie, string expected)
    {
        using var run = new LyingPeerRun(at, lie, at is LieStep.Hello or LieStep.FirstPass ? LyingPeerRun.LargeFirstPass : LyingPeerRun.Converging,
            maxBandwidth: at is LieStep.Hello or LieStep.FirstPass ? 64ul << 20 : 0);
        var source = run.Migrate();

        Assert.True(run.Destination.Lied, run.Describe(source));
        run.AssertSourceKeptTheVm(source);
        // A Ready lied at the final pass's start can reach the source after Complete has gone out (the final pass of a
        // converged guest is a few pages, sent at once since the switchover no longer waits on the rate limit); then it
        // lacks Complete's token, which is what the source refuses.
        string crossed = "sent Ready with hand-over token 0x0000000000000000, not the one Complete carried";
        if (at == LieStep.FinalPass && source.Info().ErrorDesc!.Contains(crossed)) expected = crossed;
        Assert.Contains("protocol error: the destination " + expected, source.Info().ErrorDesc);
        Assert.EndsWith("the VM keeps running on the source", source.Info().ErrorDesc);
        // The destination is told why (it still reads).
        Assert.True(SpinWait.SpinUntil(() => run.Destination.SourceError is not null, TimeSpan.FromSeconds(5)), run.Describe(source));
        Assert.Contains(expected, run.Destination.SourceError);
    }

    [Fact]
    public void A_destination_that_never_answers_Hello_is_given_up_after_the_reply_timeout()
    {
        using var run = new LyingPeerRun(LieStep.Hello, Lie.StopReading, LyingPeerRun.Converging);
        var source = run.Migrate();

        run.AssertSourceKeptTheVm(source);
        Assert.Contains("no reply from", source.Info().ErrorDesc);
        Assert.Contains("waiting for the destination's answer to Hello", source.Info().ErrorDesc);
    }

    [Fact]
    public void A_destination_that_stops_reading_in_the_first_pass_is_detected_by_the_write_watchdog()
    {
        using var run = new LyingPeerRun(LieStep.FirstPass, Lie.StopReading, LyingPeerRun.LargeFirstPass);
        var source = run.Migrate();

        Assert.True(run.Destination.Lied, run.Describe(source));
        run.AssertSourceKeptTheVm(source);
        Assert.Contains("the destination stopped reading: nothing could be sent to", source.Info().ErrorDesc);
        Assert.Contains("(the limit is 2 s)", source.Info().ErrorDesc);
    }

    [Theory]
    [InlineData(LieStep.FinalPass, Lie.StopReading, LyingPeerRun.Converging)]
    [InlineData(LieStep.FinalPass, Lie.StopReading, LyingPeerRun.BusyConverging)] // the writer is stuck in the final pass
    [InlineData(LieStep.Complete, Lie.Silence, LyingPeerRun.Converging)]
    [InlineData(LieStep.Complete, Lie.StopReading, LyingPeerRun.Converging)]
    public void A_destination_that_hangs_in_the_switchover_gets_no_more_than_the_downtime_limit_plus_the_margin(LieStep at, Lie lie, string workload)
    {
        // The default stall limit: the deadline, not the stall watchdog, must end a stuck final pass, and the guest must
        // resume before the source waits for its stuck writer (up to 2 s) to send the destination an Error.
        using var run = new LyingPeerRun(at, lie, workload) { StallLimit = WriteStallWatchdog.DefaultLimit };
        var source = run.Migrate();

        Assert.True(run.Destination.Lied, run.Describe(source));
        run.AssertSourceKeptTheVm(source);
        Assert.Contains($"the destination did not confirm within the downtime limit ({run.DowntimeLimitMs} ms + ", source.Info().ErrorDesc);
        // The pause was real (the switchover had begun), and it ended near the deadline, not at the end of the test.
        Assert.True(run.LongestPause >= TimeSpan.FromMilliseconds(run.DowntimeLimitMs), run.Describe(source));
    }

    /// <summary>
    /// A destination that answers Ready honestly and then hangs has the commit: the source cannot know whether its
    /// Commit was read. It must then neither run the guest nor pretend it failed cleanly: both sides stay paused, and
    /// the error says so, within the reply timeout.
    /// </summary>
    [Fact]
    public void A_destination_that_hangs_after_an_honest_Ready_leaves_the_hand_over_to_the_operator()
    {
        using var run = new LyingPeerRun(LieStep.Complete, Lie.ReadyThenStopReading, LyingPeerRun.Converging);
        var source = run.Migrate();

        var context = run.Describe(source);
        Assert.True(source.Outcome == MigrationOutcome.HandOverUncertain, context);
        Assert.Equal(MigrationStatus.Failed, source.Status);
        Assert.Contains("both sides are paused", source.Info().ErrorDesc);
        Assert.Equal(Tern.Machine.MachineRunState.Paused, run.Guest.State);
    }
}
