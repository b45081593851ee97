using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Migration.Protocol;

/// <summary>
/// D→S, the first frame on a recovered post-copy main connection: which pages the destination holds (set = received),
/// so that the source resends exactly the others, those that were in flight when the link broke included.
/// </summary>
/// <remarks>
/// Grammar: RAM pages u64 | encoding u8 | body.
/// Encoding 0, ranges: count u32 | (first page u64, pages u64) each, ascending, not touching, none empty, inside RAM.
/// Encoding 1, bitmap: the u64 words of a bitmap of RAM (bit set = received; no bit beyond RAM).
/// The writer picks whichever is smaller: a guest that received most of its RAM in runs is a few ranges, a scattered
/// one is at most RAM/32768 bytes of bitmap (32 KiB for 1 GiB), well under the frame limit for any RAM Tern hosts.
/// </remarks>
public static class PostcopyReceivedMessage
{
    public const byte Ranges = 0, Bitmap = 1;

    public static void Write(PayloadWriter w, DirtyBitmap received)
    {
        var runs = Runs(received);
        long rangeBytes = 4 + runs.Count * 16L;
        long bitmapBytes = received.Words.Length * 8L;
        w.U64(received.PageCount);
        if (rangeBytes <= bitmapBytes)
        {
            w.U8(Ranges);
            w.U32((uint)runs.Count);
            foreach (var (first, count) in runs)
            {
                w.U64(first);
                w.U64(count);
            }
        }
        else
        {
            w.U8(Bitmap);
            foreach (ulong word in received.Words) w.U64(word);
        }
    }

    /// <param name="pageCount">The source's RAM, in pages: the message must describe exactly that.</param>
    public static DirtyBitmap Read(ReadOnlySpan<byte> payload, ulong pageCount)
    {
        var r = new PayloadReader(MessageType.PostcopyReceived, payload);
        ulong pages = r.U64();
        if (pages != pageCount)
            throw new ProtocolException($"PostcopyReceived describes {pages} pages of RAM, the source has {pageCount}");
        var received = new DirtyBitmap(pages);
        byte encoding = r.U8();
        switch (encoding)
        {
            case Ranges:
                uint count = r.U32();
                if (count > (uint)(r.Remaining / 16)) throw new ProtocolException($"PostcopyReceived announces {count} ranges but carries {r.Remaining} bytes");
                ulong next = 0;
                for (uint i = 0; i < count; i++)
                {
                    ulong first = r.U64(), length = r.U64();
                    if (length == 0 || first < next || first > pages || length > pages - first)
                        throw new ProtocolException($"PostcopyReceived range {i} (pages {first}+{length}) is empty, out of order, overlapping or outside RAM ({pages} pages)");
                    for (ulong p = first; p < first + length; p++) received.Set(new PageIndex(p));
                    next = first + length + 1; // ranges never touch: touching ones are one range
                }
                break;
            case Bitmap:
                var words = received.Words;
                for (int i = 0; i < words.Length; i++) words[i] = r.U64();
                if ((pages & 63) != 0 && words.Length > 0 && (words[^1] >> (int)(pages & 63)) != 0)
                    throw new ProtocolException("PostcopyReceived marks pages beyond the end of RAM as received");
                break;
            default:
                throw new ProtocolException($"PostcopyReceived has unknown encoding {encoding} (0 ranges, 1 bitmap)");
        }
        r.End();
        return received;
    }

    /// <summary>The runs of set bits, as (first page, pages).</summary>
    private static List<(ulong First, ulong Count)> Runs(DirtyBitmap bits)
    {
        var runs = new List<(ulong, ulong)>();
        ulong start = 0, length = 0;
        foreach (var page in bits.SetPages())
        {
            if (length > 0 && page.Value == start + length) length++;
            else
            {
                if (length > 0) runs.Add((start, length));
                start = page.Value;
                length = 1;
            }
        }
        if (length > 0) runs.Add((start, length));
        return runs;
    }
}
