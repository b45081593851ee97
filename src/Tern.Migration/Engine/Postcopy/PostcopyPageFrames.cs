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

    /// <summary>
    /// Writes the pages of <paramref name="pages"/> from <paramref name="memory"/> (the source's paused guest RAM), adding
    /// each to <paramref name="digest"/> (x-verify) as it is read.
    /// </summary>
    public static void Write(PayloadWriter w, IGuestMemory memory, ReadOnlySpan<ulong> pages, PostcopySourceDigest? digest)
    {
        w.U32((uint)pages.Length);
        foreach (ulong p in pages)
        {
            var index = new PageIndex(p);
            var data = memory.GetSpan(index.Address, PageSize.Bytes);
            digest?.AddSent(index, data);
            if (data.IndexOfAnyExcept((byte)0) < 0)
            {
                w.U64(PageRecord.Header(p, PageRecordKind.Zero));
                continue;
            }
            w.U64(PageRecord.Header(p, PageRecordKind.Normal));
            w.Bytes(data);
        }
    }

    /// <summary>
    /// Reads a PostcopyPages payload record by record, checking each (a page inside guest RAM, a kind post-copy sends)
    /// before handing it out; <see cref="Next"/> returns false after the last record, once the payload has been checked
    /// to end there. Allocation-free.
    /// </summary>
    public ref struct Reader
    {
        private PayloadReader r;
        private readonly ulong pageCount;
        private readonly uint count;
        private uint index;

        public Reader(ReadOnlySpan<byte> payload, ulong pageCount)
        {
            r = new PayloadReader(MessageType.PostcopyPages, payload);
            this.pageCount = pageCount;
            count = r.U32();
            if (count > MaxPages * 16) throw new ProtocolException($"PostcopyPages carries {count} records, more than {MaxPages * 16}");
        }

        public bool Next(out PageIndex page, out ReadOnlySpan<byte> data)
        {
            if (index == count)
            {
                r.End();
                page = default;
                data = default;
                return false;
            }
            var (number, kind) = PageRecord.Split(r.U64());
            if (number >= pageCount)
                throw new ProtocolException($"post-copy page record {index} names page {number}, outside guest RAM ({pageCount} pages)");
            data = kind switch
            {
                PageRecordKind.Normal => r.Bytes(PageSize.Bytes),
                PageRecordKind.Zero => ZeroPage,
                _ => throw new ProtocolException($"post-copy page record {index} (page {number}) is {kind}; after the switch only Normal and Zero pages are sent"),
            };
            page = new PageIndex(number);
            index++;
            return true;
        }
    }
}
