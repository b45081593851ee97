using System.Text.RegularExpressions;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Failures;

/// <summary>
/// The link between source and destination fails at different points of a migration (real sockets, a proxy that
/// resets, truncates or corrupts). Before the hand-over, every failure leaves the VM running on the source, the
/// destination discards its copy, and both sides' errors name the cause.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class LinkFaultTests
{
    /// <summary>What a reset or closed connection is called, on whichever side notices first.</summary>
    private static readonly Regex LinkLost = new("reset|closed the connection|went away|broken pipe", RegexOptions.IgnoreCase);

    /// <summary>
    /// A connection that never delivers a whole Hello is not a migration: the destination builds nothing, says so in
    /// its log, and is still there for the source's next attempt.
    /// </summary>
    [Fact]
    public void Dropped_inside_the_Hello()
    {
        using var s = new FailureScenario(FailureScenario.Converging, LinkFault.DropAfterBytes(Frame.HeaderSize + 20));
        var (source, run) = s.Start();
        s.Migration.FinishSource(source, run);

        Assert.True(source.Status == MigrationStatus.Failed, s.Migration.Describe(source));
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        Assert.Matches(LinkLost, s.SourceError(source));
        Assert.True(SpinWait.SpinUntil(() => s.Migration.Log.Any(l => l.Contains("before it said Hello")), TimeSpan.FromSeconds(10)),
            s.Migration.Describe(source));
        Assert.Equal(MigrationStatus.None, s.Migration.Destination.Status);

        var (retry, retryRun) = s.Migration.Start();
        s.Finish(retry, retryRun);
        Assert.True(retry.Status == MigrationStatus.Completed, s.Migration.Describe(retry));
    }

    [Theory]
    [InlineData(200)]
    [InlineData(5_000)]
    [InlineData(60_000)]
    [InlineData(130_000)] // the first pass alone carries 16,384 records of at least 8 bytes
    public void Dropped_after_some_bytes(long offset)
    {
        using var s = new FailureScenario(FailureScenario.Converging, LinkFault.DropAfterBytes(offset));
        var (source, run) = s.Start();
        s.Finish(source, run);

        Assert.True(s.Proxy.Fired, s.Migration.Describe(source));
        s.AssertSourceKeptTheVm(source, MigrationStatus.Failed);
        Assert.Matches(LinkLost, s.SourceError(source));
        Assert.Matches(LinkLost, s.DestinationError);
    }

    [Fact]
    public void Dropped_in_the_first_pass()
    {
        using var s = new FailureScenario(FailureScenario.Converging, LinkFault.DropAtPages(1));
        var (source, run) = s.Start();
        s.Finish(source, run);

        Assert.True(s.Proxy.Fired, s.Migration.Describe(source));
        s.AssertSourceKeptTheVm(source, MigrationStatus.Failed);
        Assert.Matches(LinkLost, s.SourceError(source));
        Assert.Matches(LinkLost, s.DestinationError);
    }

    [Fact]
    public void Dropped_at_a_later_pass()
    {
        using var s = new FailureScenario(FailureScenario.NeverConverging, LinkFault.DropAtPass(3), maxBandwidth: FailureScenario.SlowLink);
        var (source, run) = s.Start();
        s.Finish(source, run);

        s.AssertSourceKeptTheVm(source, MigrationStatus.Failed);
        Assert.True(source.Counters.DirtySyncCount >= 2, $"only {source.Counters.DirtySyncCount} passes");
        Assert.Matches(LinkLost, s.SourceError(source));
        Assert.Matches(LinkLost, s.DestinationError);
    }

    [Theory]
    [InlineData(MessageType.DeviceState)]
    [InlineData(MessageType.Complete)]
    public void Dropped_during_the_switchover_while_the_guest_is_paused(MessageType at)
    {
        using var s = new FailureScenario(FailureScenario.Converging, LinkFault.DropAt(at));
        var (source, run) = s.Start();
        s.Finish(source, run);

        Assert.True(s.Proxy.Fired, "the migration never reached " + at);
        s.AssertSourceKeptTheVm(source, MigrationStatus.Failed); // the switchover paused it; the failure resumed it
        Assert.Matches(LinkLost, s.SourceError(source));
        Assert.Matches(LinkLost, s.DestinationError);
    }

    [Fact]
    public void A_corrupted_byte_in_the_first_pass_is_caught_by_the_destination_and_reported_to_the_source()
    {
        using var s = new FailureScenario(FailureScenario.Converging, LinkFault.CorruptByteAt(300_003));
        var (source, run) = s.Start();
        s.Finish(source, run);

        Assert.True(s.Proxy.Fired, s.Migration.Describe(source));
        s.AssertSourceKeptTheVm(source, MigrationStatus.Failed);
        Assert.Contains("bad migration stream", s.DestinationError);
        Assert.Contains("the destination reported: bad migration stream", s.SourceError(source));
    }

    /// <summary>
    /// The destination's Error is on its way when its end of the link closes; the proxy's forward direction sees the
    /// reset first. A link delivers the Error before the reset, so the source must report it (the proxy once closed
    /// the source's side at once and lost it, which made the test above fail now and then).
    /// </summary>
    [Fact]
    public void A_destination_error_still_in_flight_when_the_link_breaks_is_reported_to_the_source()
    {
        var fault = LinkFault.CorruptByteAt(300_003) with { ReturnPathDelay = TimeSpan.FromMilliseconds(700) };
        using var s = new FailureScenario(FailureScenario.Converging, fault);
        var (source, run) = s.Start();
        s.Finish(source, run);

        Assert.True(s.Proxy.Fired, s.Migration.Describe(source));
        s.AssertSourceKeptTheVm(source, MigrationStatus.Failed);
        Assert.Contains("bad migration stream", s.DestinationError);
        Assert.Contains("the destination reported: bad migration stream", s.SourceError(source));
    }

    [Fact]
    public void A_stream_truncated_in_the_first_pass_is_reported_to_the_source()
    {
        using var s = new FailureScenario(FailureScenario.Converging, LinkFault.TruncateAfterBytes(300_003));
        var (source, run) = s.Start();
        s.Finish(source, run);

        Assert.True(s.Proxy.Fired, s.Migration.Describe(source));
        s.AssertSourceKeptTheVm(source, MigrationStatus.Failed);
        Assert.Contains("in the middle of a", s.DestinationError);
        Assert.Contains("the destination reported: the source went away", s.SourceError(source));
    }

    [Fact]
    public void The_destination_shut_down_mid_stream()
    {
        using var s = new FailureScenario(FailureScenario.NeverConverging, maxBandwidth: FailureScenario.SlowLink);
        var (source, run) = s.Start();
        Assert.True(SpinWait.SpinUntil(() => source.Counters.Transferred > (512 << 10), TimeSpan.FromSeconds(10)), "no data flowed");
        s.Migration.Destination.Cancel();
        s.Finish(source, run);

        s.AssertSourceKeptTheVm(source, MigrationStatus.Failed);
        Assert.Contains("cancelled on the destination", s.DestinationError);
        Assert.Matches(new Regex("cancelled on the destination|reset|closed the connection|went away|broken pipe", RegexOptions.IgnoreCase), s.SourceError(source));
    }
}
