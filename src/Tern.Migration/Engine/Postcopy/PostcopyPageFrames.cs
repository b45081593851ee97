using Tern.Memory;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Postcopy;

/// <summary>
/// The PostcopyPages payload: a record count (u32), then records in the format of Pages (docs/protocol.md), of two
/// kinds only, Normal (4096 bytes) and Zero. After the switch the source's guest is paused, so a page read once is
/// the page for good: no XBZRLE (nothing to diff against that would save a round trip) and no compression (the
/// urgent lane wants the page now, not smaller).
/// </summary>
internal static class PostcopyPageFrames
{
    /// <summary>Pages per frame: 256 KiB of data at most, so a requested page never waits behind a large frame.</summary>
    public const int MaxPages = 64;

    private static readonly byte[] ZeroPage = new byte[PageSize.Bytes];

    /// <summary>Writes the pages of <paramref name="pages"/> from <paramref name="memory"/> (the source's paused guest RAM).</summary>
    public static void Write(PayloadWriter w, IGuestMemory memory, ReadOnlySpan<ulong> pages)
    {
        w.U32((uint)pages.Length);
        foreach (ulong p in pages)
        {
            var index = new PageIndex(p);
            var data = memory.GetSpan(index.Address, PageSize.Bytes);
            if (data.IndexOfAnyExcept((byte)0) < 0)
            {
                w.U64(PageRecord.Header(p, PageRecordKind.Zero));
                continue;
            }
            w.U64(PageRecord.Header(p, PageRecordKind.Normal));
            w.Bytes(data);
        }
    }

    /// <summary>Reads a PostcopyPages payload and hands each page to <paramref name="place"/>; returns the number of pages.</summary>
    public static int Read(ReadOnlySpan<byte> payload, ulong pageCount, PagePlacer place)
    {
        var r = new PayloadReader(MessageType.PostcopyPages, payload);
        uint count = r.U32();
        if (count > MaxPages * 16) throw new ProtocolException($"PostcopyPages carries {count} records, more than {MaxPages * 16}");
        for (uint i = 0; i < count; i++)
        {
            var (page, kind) = PageRecord.Split(r.U64());
            if (page >= pageCount)
                throw new ProtocolException($"post-copy page record {i} names page {page}, outside guest RAM ({pageCount} pages)");
            var data = kind switch
            {
                PageRecordKind.Normal => r.Bytes(PageSize.Bytes),
                PageRecordKind.Zero => ZeroPage,
                _ => throw new ProtocolException($"post-copy page record {i} (page {page}) is {kind}; after the switch only Normal and Zero pages are sent"),
            };
            place(new PageIndex(page), data);
        }
        r.End();
        return (int)count;
    }

    public delegate void PagePlacer(PageIndex page, ReadOnlySpan<byte> data);
}
