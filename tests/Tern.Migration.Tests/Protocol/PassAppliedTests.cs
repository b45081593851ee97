using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Engine;
using Tern.Migration.Engine.Source;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Protocol;

/// <summary>
/// PassApplied (capability pass-applied): the destination says when a pass that is not final is in guest RAM, so the
/// source can wait for it before pausing the guest instead of paying for that backlog in the downtime.
/// </summary>
public sealed class PassAppliedTests
{
    private static void OnePass(RawSource raw, uint pass)
    {
        raw.PassBegin(pass);
        raw.Pages(pass, 1, w => w.U64(PageRecord.Header(5, PageRecordKind.Zero)));
        raw.Send(MessageType.PassEnd, new PassEndMessage(pass, 1).Write);
    }

    [Fact]
    public void The_destination_says_each_pass_is_applied_once_it_has_ended()
    {
        using var raw = new RawSource();
        raw.Handshake();
        for (uint pass = 1; pass <= 2; pass++)
        {
            OnePass(raw, pass);
            var (type, payload) = raw.Connection.Read();
            Assert.Equal(MessageType.PassApplied, type);
            Assert.Equal(pass, PassAppliedMessage.Read(payload.Span));
        }
    }

    [Fact]
    public void Without_the_capability_the_destination_never_says_it()
    {
        using var raw = new RawSource();
        raw.Handshake(offered: ProtocolCapabilities.Supported & ~ProtocolCapability.PassApplied);
        OnePass(raw, 1);
        // The next answer is the one to the next request, not a PassApplied.
        raw.Send(MessageType.PostcopyDiscard, w => new PostcopyDiscardMessage(RawSource.GuestBytes / PageSize.Bytes, new DirtyBitmap(RawSource.GuestBytes / PageSize.Bytes)).Write(w));
        Assert.Equal(MessageType.PostcopyDiscarded, raw.Connection.Read().Type);
    }

    [Fact]
    public void The_source_takes_PassApplied_only_before_Ready()
    {
        var s = new HandOverState();
        Assert.Null(s.Receive(MessageType.PassApplied));
        ulong token = s.CompleteSent();
        Assert.Null(s.Receive(MessageType.PassApplied)); // the one for the pass before the final may still be on its way
        Assert.Null(s.Receive(MessageType.Ready, token));
        Assert.Contains("PassApplied comes only before Ready", s.Receive(MessageType.PassApplied)!.Message);
    }

    [Fact]
    public async Task A_pass_not_sent_yet_or_not_newer_is_a_violation_and_waits_end_when_it_arrives()
    {
        var applied = new AppliedPasses();
        Assert.Contains("said pass 3 is applied, but the source has sent passes up to 2", applied.Record(3, sent: 2)!.Message);
        Assert.Null(applied.Record(1, sent: 2));
        Assert.NotNull(applied.Record(1, sent: 2));
        Assert.False(applied.WaitFor(2, TimeSpan.FromMilliseconds(30), CancellationToken.None));

        var waiting = Task.Run(() => applied.WaitFor(2, TimeSpan.FromSeconds(10), CancellationToken.None), TestContext.Current.CancellationToken);
        Assert.Null(applied.Record(2, sent: 2));
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.Equal(2u, applied.Last);
    }
}
