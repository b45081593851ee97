using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// Messages in an order that makes a channel wait for its own PassEnd (data of pass 2 before that channel ended pass
/// 1, Complete before the final PassEnd) are the source's error, named at once. The destination once waited on
/// itself for 30 s, then blamed the source for sending no data, and sent no Error back.
/// </summary>
public sealed class MessageOrderDeadlockTests
{
    private static void ZeroPage(PayloadWriter w) => w.U64(PageRecord.Header(5, PageRecordKind.Zero));

    [Fact]
    public void Pages_of_the_next_pass_before_the_main_connection_ended_its_pass_are_rejected_at_once()
    {
        using var raw = new RawSource();
        raw.Handshake();
        raw.PassBegin(1);
        raw.Pages(1, 1, ZeroPage);
        raw.PassBegin(2);
        raw.Pages(2, 1, ZeroPage);

        var error = raw.ExpectRejection(); // within its 10 s patience: the stall watchdog would take 30
        Assert.Contains("Pages for pass 2 on channel 0 before channel 0 ended pass 1", error.Text);
        Assert.DoesNotContain("no data", error.Text);
    }

    [Fact]
    public void A_PassEnd_of_the_next_pass_before_the_main_connection_ended_its_pass_is_rejected_at_once()
    {
        using var raw = new RawSource();
        raw.Handshake();
        raw.PassBegin(1);
        raw.PassBegin(2);
        raw.Send(MessageType.PassEnd, new PassEndMessage(2, 0).Write);

        var error = raw.ExpectRejection();
        Assert.Contains("PassEnd for pass 2 on channel 0 before channel 0 ended pass 1", error.Text);
    }

    [Fact]
    public void Complete_before_the_main_connection_ended_the_final_pass_is_rejected_at_once()
    {
        using var raw = new RawSource();
        raw.Handshake();
        raw.PassBegin(1, final: true);
        raw.Pages(1, 1, ZeroPage);
        raw.Send(MessageType.DeviceState, w => w.Bytes(RawSource.DeviceState()));
        raw.Send(MessageType.Complete, new CompleteMessage(1, false, 0, 7).Write);

        var error = raw.ExpectRejection();
        Assert.Contains("Complete arrived on channel 0 before channel 0 ended the final pass 1", error.Text);
    }

    [Fact]
    public void Complete_waits_for_a_silent_page_channel_only_a_bounded_time_and_names_it()
    {
        using var raw = new RawSource(limits: new DestinationLimits { FinalPassGrace = TimeSpan.FromSeconds(2) });
        raw.Handshake(RawSource.Hello(channels: 2));
        using var channel = raw.OpenChannel(1);
        raw.PassBegin(1, final: true, channels: 2);
        raw.Pages(1, 1, ZeroPage);
        raw.Send(MessageType.PassEnd, new PassEndMessage(1, 1).Write);
        raw.Send(MessageType.DeviceState, w => w.Bytes(RawSource.DeviceState()));
        raw.Send(MessageType.Complete, new CompleteMessage(1, false, 0, 7).Write);
        // Channel 1 stays open and silent: its PassEnd never comes.

        var error = raw.ExpectRejection();
        Assert.Contains("page channel 1 did not end the final pass 1", error.Text);
        Assert.Contains("no PassEnd and no data from it for 2 s", error.Text);
    }

    [Fact]
    public void Complete_waits_for_a_page_channel_that_ends_the_final_pass_late()
    {
        using var raw = new RawSource(limits: new DestinationLimits { FinalPassGrace = TimeSpan.FromSeconds(10) });
        raw.Handshake(RawSource.Hello(channels: 2));
        using var channel = raw.OpenChannel(1);
        raw.PassBegin(1, final: true, channels: 2);
        raw.Send(MessageType.PassEnd, new PassEndMessage(1, 0).Write);
        raw.Send(MessageType.DeviceState, w => w.Bytes(RawSource.DeviceState()));
        raw.Send(MessageType.Complete, new CompleteMessage(1, false, 0, 7).Write);
        Thread.Sleep(500); // the channel's last page and PassEnd are still on their way
        var pages = new PayloadWriter();
        pages.U32(1);
        pages.U32(1);
        ZeroPage(pages);
        channel.Write(MessageType.Pages, pages);
        var end = new PayloadWriter();
        new PassEndMessage(1, 1).Write(end);
        channel.Write(MessageType.PassEnd, end);
        channel.Flush();

        var (type, _) = raw.Connection.Read();
        Assert.Equal(MessageType.Ready, type);
    }

    [Fact]
    public async Task Pages_of_the_next_pass_on_a_page_channel_before_it_ended_its_pass_end_the_attempt_at_once()
    {
        using var raw = new RawSource();
        raw.Handshake(RawSource.Hello(channels: 2));
        using var channel = raw.OpenChannel(1);
        raw.PassBegin(1, channels: 2);
        raw.Send(MessageType.PassEnd, new PassEndMessage(1, 0).Write);
        raw.PassBegin(2, channels: 2);
        var pages = new PayloadWriter();
        pages.U32(2);
        pages.U32(1);
        ZeroPage(pages);
        channel.Write(MessageType.Pages, pages);
        channel.Flush();

        await raw.Run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken); // a TimeoutException: it waited on its own channel
        Assert.Equal(MigrationStatus.Failed, raw.Destination.Status);
        Assert.Contains("Pages for pass 2 on channel 1 before channel 1 ended pass 1", raw.Destination.Info().ErrorDesc);
        // The rejection came from a page channel, and the source still hears why on the main connection.
        var error = raw.ExpectRejection();
        Assert.Contains("Pages for pass 2 on channel 1 before channel 1 ended pass 1", error.Text);
    }
}
