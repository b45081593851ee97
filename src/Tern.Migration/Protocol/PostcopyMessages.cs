using Tern.Memory.Dirty;

namespace Tern.Migration.Protocol;

/// <summary>
/// S→D on the main connection, with the guest paused on the source: the pages the destination holds stale copies of
/// (dirtied since they were last sent), as a bitmap of RAM (bit set = stale). Every other page the destination holds
/// is final. The device state follows.
/// </summary>
public sealed record PostcopyBeginMessage(ulong PageCount, DirtyBitmap Stale)
{
    public void Write(PayloadWriter w) => RamBitmapPayload.Write(w, PageCount, Stale);

    /// <param name="pageCount">The destination's RAM, in pages: the bitmap must cover exactly that.</param>
    public static PostcopyBeginMessage Read(ReadOnlySpan<byte> payload, ulong pageCount) =>
        new(pageCount, RamBitmapPayload.Read(MessageType.PostcopyBegin, payload, pageCount, "as stale"));
}

/// <summary>
/// S→D on the main connection before PostcopyBegin, the guest still running on the source: pages that are stale on the
/// destination already (dirty at the last sync), to be dropped now rather than in the pause. PostcopyBegin names them
/// again; it stays the one list of stale pages.
/// </summary>
public sealed record PostcopyDiscardMessage(ulong PageCount, DirtyBitmap Pages)
{
    public void Write(PayloadWriter w) => RamBitmapPayload.Write(w, PageCount, Pages);

    public static PostcopyDiscardMessage Read(ReadOnlySpan<byte> payload, ulong pageCount) =>
        new(pageCount, RamBitmapPayload.Read(MessageType.PostcopyDiscard, payload, pageCount, "to drop"));
}

/// <summary>D→S: the pages PostcopyDiscard named are dropped; how many of them held data (u64).</summary>
public static class PostcopyDiscardedMessage
{
    public static void Write(PayloadWriter w, ulong dropped) => w.U64(dropped);

    public static ulong Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.PostcopyDiscarded, payload);
        ulong dropped = r.U64();
        r.End();
        return dropped;
    }
}

/// <summary>A bitmap of the whole of RAM: the page count (u64), then one bit per page in u64 words.</summary>
internal static class RamBitmapPayload
{
    public static void Write(PayloadWriter w, ulong pageCount, DirtyBitmap pages)
    {
        w.U64(pageCount);
        foreach (ulong word in pages.Words) w.U64(word);
    }

    /// <param name="what">How the message marks a page ("as stale"), for the error about bits past the end of RAM.</param>
    public static DirtyBitmap Read(MessageType type, ReadOnlySpan<byte> payload, ulong pageCount, string what)
    {
        var r = new PayloadReader(type, payload);
        ulong pages = r.U64();
        if (pages != pageCount)
            throw new ProtocolException($"{type} describes {pages} pages of RAM, the destination has {pageCount}");
        var bitmap = new DirtyBitmap(pages);
        var words = bitmap.Words;
        for (int i = 0; i < words.Length; i++) words[i] = r.U64();
        r.End();
        if ((pages & 63) != 0 && words.Length > 0 && (words[^1] >> (int)(pages & 63)) != 0)
            throw new ProtocolException($"{type} marks pages beyond the end of RAM {what}");
        return bitmap;
    }
}

/// <summary>D→S on the urgent lane: pages a vCPU (or a restore) is waiting for, 1 to <see cref="ProtocolConstants.MaxRequestedPages"/>.</summary>
public static class PageRequestMessage
{
    public static void Write(PayloadWriter w, ReadOnlySpan<ulong> pages)
    {
        w.U32((uint)pages.Length);
        foreach (ulong p in pages) w.U64(p);
    }

    /// <summary>Reads the page numbers into <paramref name="into"/> (checked against RAM); returns how many.</summary>
    public static int Read(ReadOnlySpan<byte> payload, ulong pageCount, Span<ulong> into)
    {
        var r = new PayloadReader(MessageType.PageRequest, payload);
        uint count = r.U32();
        if (count is 0 or > ProtocolConstants.MaxRequestedPages || count > into.Length)
            throw new ProtocolException($"PageRequest names {count} pages (1 to {ProtocolConstants.MaxRequestedPages} allowed)");
        for (int i = 0; i < count; i++)
        {
            ulong page = r.U64();
            if (page >= pageCount) throw new ProtocolException($"PageRequest names page {page}, outside guest RAM ({pageCount} pages)");
            into[i] = page;
        }
        r.End();
        return (int)count;
    }
}

/// <summary>D→S on the main connection: every page has arrived; with x-verify, the digest of the pages as they arrived.</summary>
public sealed record PostcopyDoneMessage(ulong PagesReceived, bool HasDigest, ulong Digest)
{
    public void Write(PayloadWriter w) { w.U64(PagesReceived); w.U8(HasDigest ? (byte)1 : (byte)0); w.U64(Digest); }

    public static PostcopyDoneMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.PostcopyDone, payload);
        var m = new PostcopyDoneMessage(r.U64(), r.U8() != 0, r.U64());
        r.End();
        return m;
    }
}
