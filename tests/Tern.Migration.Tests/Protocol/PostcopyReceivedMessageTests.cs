using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Protocol;

/// <summary>
/// PostcopyReceived (message 20): the pages a paused post-copy destination holds, as ranges or as a bitmap, whichever is
/// smaller; read back exactly, and anything malformed refused by name.
/// </summary>
public sealed class PostcopyReceivedMessageTests
{
    private static DirtyBitmap Bits(ulong pages, params (ulong First, ulong Count)[] runs)
    {
        var b = new DirtyBitmap(pages);
        foreach (var (first, count) in runs)
            for (ulong p = first; p < first + count; p++) b.Set(new PageIndex(p));
        return b;
    }

    private static byte[] Encode(DirtyBitmap b)
    {
        var w = new PayloadWriter();
        PostcopyReceivedMessage.Write(w, b);
        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public void A_few_runs_travel_as_ranges_and_read_back_exactly()
    {
        var held = Bits(100_000, (0, 60_000), (60_001, 39_000), (99_999, 1));
        var bytes = Encode(held);
        Assert.Equal(PostcopyReceivedMessage.Ranges, bytes[8]);
        Assert.Equal(8 + 1 + 4 + 3 * 16, bytes.Length);
        Assert.Equal(held.Words.ToArray(), PostcopyReceivedMessage.Read(bytes, 100_000).Words.ToArray());
    }

    [Fact]
    public void Scattered_pages_travel_as_a_bitmap_and_read_back_exactly()
    {
        var held = new DirtyBitmap(1000);
        for (ulong p = 0; p < 1000; p += 2) held.Set(new PageIndex(p));
        var bytes = Encode(held);
        Assert.Equal(PostcopyReceivedMessage.Bitmap, bytes[8]);
        Assert.Equal(8 + 1 + 16 * 8, bytes.Length);
        Assert.Equal(held.Words.ToArray(), PostcopyReceivedMessage.Read(bytes, 1000).Words.ToArray());
    }

    [Fact]
    public void Nothing_held_is_zero_ranges()
    {
        var bytes = Encode(new DirtyBitmap(64));
        Assert.Equal(0, PostcopyReceivedMessage.Read(bytes, 64).Count());
    }

    [Fact]
    public void Malformed_messages_are_refused_by_name()
    {
        Assert.Contains("describes 64 pages of RAM, the source has 65", Assert.Throws<ProtocolException>(() => PostcopyReceivedMessage.Read(Encode(new DirtyBitmap(64)), 65)).Message);
        Assert.Contains("outside RAM", Read(10, PostcopyReceivedMessage.Ranges, 1, (8, 3)).Message);
        Assert.Contains("out of order", Read(10, PostcopyReceivedMessage.Ranges, 2, (5, 1), (2, 1)).Message);
        Assert.Contains("overlapping", Read(10, PostcopyReceivedMessage.Ranges, 2, (1, 2), (3, 1)).Message); // touching counts
        Assert.Contains("empty", Read(10, PostcopyReceivedMessage.Ranges, 1, (1, 0)).Message);
        Assert.Contains("announces 5 ranges", Read(10, PostcopyReceivedMessage.Ranges, 5, (1, 1)).Message);
        Assert.Contains("unknown encoding 7", Read(10, 7, 0).Message);
        var w = new PayloadWriter();
        w.U64(10);
        w.U8(PostcopyReceivedMessage.Bitmap);
        w.U64(1UL << 12);
        Assert.Contains("beyond the end of RAM", Assert.Throws<ProtocolException>(() => PostcopyReceivedMessage.Read(w.WrittenSpan.ToArray(), 10)).Message);
    }

    private static ProtocolException Read(ulong pages, byte encoding, uint count, params (ulong First, ulong Count)[] ranges)
    {
        var w = new PayloadWriter();
        w.U64(pages);
        w.U8(encoding);
        w.U32(count);
        foreach (var (first, n) in ranges)
        {
            w.U64(first);
            w.U64(n);
        }
        var bytes = w.WrittenSpan.ToArray();
        return Assert.Throws<ProtocolException>(() => PostcopyReceivedMessage.Read(bytes, pages));
    }
}
