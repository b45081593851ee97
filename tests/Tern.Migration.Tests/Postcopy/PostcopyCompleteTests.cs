using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// The end of post-copy's switch on the destination (docs/protocol.md): PostcopyBegin, DeviceState, then Complete with
/// the passes' record count and a token; only Complete is answered with Ready, and the Ready echoes the token, so the
/// source can tell it from a Ready sent before Complete was read.
/// </summary>
public sealed class PostcopyCompleteTests
{
    private const ulong Pages = RawSource.GuestBytes / PageSize.Bytes;

    /// <summary>Pass 1 with pages 5 and 7 holding data, then PostcopyBegin naming page 5 stale, then DeviceState.</summary>
    private static void SwitchToPostcopy(RawSource raw)
    {
        raw.Handshake();
        raw.PassBegin(1);
        raw.Send(MessageType.Pages, w => w.Bytes(PagePayloads.Of((5, 0xA5), (7, 0x77))));
        raw.Send(MessageType.PassEnd, new PassEndMessage(1, 2).Write);
        Assert.Equal(MessageType.PassApplied, raw.Connection.Read().Type);
        var stale = new DirtyBitmap(Pages);
        stale.Set(new PageIndex(5));
        raw.Send(MessageType.PostcopyBegin, w => new PostcopyBeginMessage(Pages, stale).Write(w));
        raw.Send(MessageType.DeviceState, w => w.Bytes(RawSource.DeviceState()));
    }

    [Fact]
    public void Complete_is_answered_with_a_Ready_that_echoes_its_token()
    {
        using var raw = new RawSource();
        SwitchToPostcopy(raw);
        const ulong token = 0x5EED_F00D_0000_0042;
        raw.Send(MessageType.Complete, new CompleteMessage(2, false, 0, token).Write);

        // The first frame after DeviceState is this Ready: DeviceState alone is not answered.
        var (type, payload) = raw.Connection.Read();
        Assert.Equal(MessageType.Ready, type);
        var ready = ReadyMessage.Read(payload.Span);
        Assert.Equal(token, ready.Token);
        Assert.False(ready.HasDigest);
    }

    [Fact]
    public void A_record_count_that_is_not_the_passes_is_rejected_naming_both()
    {
        using var raw = new RawSource();
        SwitchToPostcopy(raw);
        raw.Send(MessageType.Complete, new CompleteMessage(3, false, 0, 1).Write);

        Assert.Contains("the source sent 3 page records before post-copy, 2 arrived", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_digest_in_the_post_copy_Complete_is_rejected()
    {
        using var raw = new RawSource();
        SwitchToPostcopy(raw);
        raw.Send(MessageType.Complete, new CompleteMessage(2, true, 0xABCD, 1).Write);

        Assert.Contains("Complete carries a digest in post-copy (PostcopyDone carries it)", raw.ExpectRejection().Text);
    }
}
