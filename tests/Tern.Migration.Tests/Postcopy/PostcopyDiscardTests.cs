using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// PostcopyDiscard (docs/protocol.md): before the pause, the source names the pages that are stale on the destination
/// already, and the destination drops them then and answers PostcopyDiscarded, so that the pause only drops the pages
/// dirtied since. Only when negotiated, once, before PostcopyBegin and outside a final pass.
/// </summary>
public sealed class PostcopyDiscardTests
{
    private const ulong Pages = RawSource.GuestBytes / PageSize.Bytes;

    private static void NormalPage(PayloadWriter w, ulong page, byte fill)
    {
        w.U64(PageRecord.Header(page, PageRecordKind.Normal));
        w.Bytes(Enumerable.Repeat(fill, PageSize.Bytes).ToArray());
    }

    private static Action<PayloadWriter> Discard(params ulong[] pages) => w =>
    {
        var bitmap = new DirtyBitmap(Pages);
        foreach (ulong p in pages) bitmap.Set(new PageIndex(p));
        new PostcopyDiscardMessage(Pages, bitmap).Write(w);
    };

    /// <summary>Pass 1 with pages 5 and 7 holding data, ended (and, with pass-applied, said applied).</summary>
    /// <param name="moreHeld">Page 8 too: then more pages are held than named stale, and the destination drops.</param>
    private static void FirstPass(RawSource raw, bool passApplied = true, bool moreHeld = false)
    {
        raw.PassBegin(1);
        if (moreHeld) raw.Pages(1, 3, w => { NormalPage(w, 5, 0xA5); NormalPage(w, 7, 0x77); NormalPage(w, 8, 0x88); });
        else raw.Pages(1, 2, w => { NormalPage(w, 5, 0xA5); NormalPage(w, 7, 0x77); });
        raw.Send(MessageType.PassEnd, new PassEndMessage(1, moreHeld ? 3UL : 2UL).Write);
        if (!passApplied) return;
        var (type, payload) = raw.Connection.Read();
        Assert.Equal(MessageType.PassApplied, type);
        Assert.Equal(1u, PassAppliedMessage.Read(payload.Span));
    }

    [Fact]
    public void The_destination_drops_the_named_pages_at_once_and_says_how_many_held_data()
    {
        using var raw = new RawSource();
        raw.Handshake();
        FirstPass(raw, moreHeld: true);
        raw.Send(MessageType.PostcopyDiscard, Discard(5, 6)); // 6 never arrived: a hole, nothing to drop

        var (type, payload) = raw.Connection.Read();
        Assert.Equal(MessageType.PostcopyDiscarded, type);
        Assert.Equal(1UL, PostcopyDiscardedMessage.Read(payload.Span));
        var ram = raw.Machine!.Ram;
        Assert.False(ram.IsPopulated(new PageIndex(5)), "the named page still holds its stale data");
        Assert.True(ram.IsPopulated(new PageIndex(7)), "a page that was not named was dropped");
        Assert.Contains(raw.Log, l => l.Contains("dropped 1 of 2 stale pages", StringComparison.Ordinal));
    }

    /// <summary>
    /// As many stale pages with data as held ones: mapping the held pages costs less than dropping the stale ones, so
    /// nothing is dropped (the stale pages are written over in place after the pause, StalePageChoice) and the answer
    /// says 0.
    /// </summary>
    [Fact]
    public void The_destination_keeps_the_stale_pages_to_write_over_when_that_costs_less_and_says_none_was_dropped()
    {
        Assert.SkipUnless(Tern.Os.Userfault.UserfaultFd.SupportsMinorShmem, "this kernel has no userfaultfd MINOR mode on memfd memory");
        using var raw = new RawSource();
        raw.Handshake();
        FirstPass(raw);
        raw.Send(MessageType.PostcopyDiscard, Discard(5, 6));

        var (type, payload) = raw.Connection.Read();
        Assert.Equal(MessageType.PostcopyDiscarded, type);
        Assert.Equal(0UL, PostcopyDiscardedMessage.Read(payload.Span));
        var ram = raw.Machine!.Ram;
        Assert.True(ram.IsPopulated(new PageIndex(5)), "the stale page was dropped: it is kept to be written over");
        Assert.Contains(raw.Log, l => l.Contains("the 2 stale pages will be written over in place", StringComparison.Ordinal) &&
            l.Contains("mapped the 1 pages held here", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_the_capability_PostcopyDiscard_is_rejected_naming_it()
    {
        using var raw = new RawSource();
        raw.Handshake(offered: ProtocolCapabilities.Supported & ~ProtocolCapability.PostcopyDiscard);
        FirstPass(raw);
        raw.Send(MessageType.PostcopyDiscard, Discard(5));

        Assert.Contains("PostcopyDiscard arrived, but post-copy discards were not negotiated", raw.ExpectRejection().Text);
        Assert.DoesNotContain(raw.Log, l => l.Contains("dropped", StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_PostcopyDiscard_is_rejected()
    {
        using var raw = new RawSource();
        raw.Handshake();
        FirstPass(raw);
        raw.Send(MessageType.PostcopyDiscard, Discard(5));
        Assert.Equal(MessageType.PostcopyDiscarded, raw.Connection.Read().Type);
        raw.Send(MessageType.PostcopyDiscard, Discard(7));

        Assert.Contains("PostcopyDiscard arrived twice", raw.ExpectRejection().Text);
    }

    [Fact]
    public void PostcopyDiscard_in_a_final_pass_is_rejected()
    {
        using var raw = new RawSource();
        raw.Handshake();
        raw.PassBegin(1, final: true);
        raw.Send(MessageType.PostcopyDiscard, Discard(5));

        Assert.Contains("PostcopyDiscard arrived after the final pass 1 began", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_bitmap_for_another_size_of_RAM_is_rejected_naming_both()
    {
        using var raw = new RawSource();
        raw.Handshake();
        FirstPass(raw);
        raw.Send(MessageType.PostcopyDiscard, w => new PostcopyDiscardMessage(Pages * 2, new DirtyBitmap(Pages * 2)).Write(w));

        Assert.Contains($"PostcopyDiscard describes {Pages * 2} pages of RAM, the destination has {Pages}", raw.ExpectRejection().Text);
    }
}
