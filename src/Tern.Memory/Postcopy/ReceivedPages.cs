using System.Numerics;
using Tern.Memory.Dirty;

namespace Tern.Memory.Postcopy;

/// <summary>
/// The destination's record of which pages of guest RAM hold their final data: set by whoever writes a page that
/// arrived (the page applier, the missing-page service), from any number of threads at once, lock-free; a page set
/// twice stays set and counts once. Read as a snapshot to tell the source what is still missing or to reconcile
/// after a broken link. A page received as zero may be a hole of the memfd: "received" says its contents are final,
/// not that it is allocated.
/// </summary>
public sealed class ReceivedPages
{
    private readonly ulong[] words;
    private long count;

    public ReceivedPages(ulong pageCount)
    {
        PageCount = pageCount;
        words = new ulong[(pageCount + 63) / 64];
    }

    /// <summary>
    /// Every page received except those set in <paramref name="missing"/>: the destination's record at the post-copy
    /// switch, built a word at a time (page by page it took milliseconds of the stop for a GiB).
    /// </summary>
    public static ReceivedPages AllBut(DirtyBitmap missing)
    {
        var received = new ReceivedPages(missing.PageCount);
        var from = missing.Words;
        long count = 0;
        for (int i = 0; i < received.words.Length; i++)
        {
            ulong bits = ~from[i];
            if (i == received.words.Length - 1 && (missing.PageCount & 63) != 0) bits &= (1UL << (int)(missing.PageCount & 63)) - 1;
            received.words[i] = bits;
            count += BitOperations.PopCount(bits);
        }
        received.count = count;
        return received;
    }

    public ulong PageCount { get; }

    /// <summary>Pages received so far.</summary>
    public long Count => Volatile.Read(ref count);

    /// <summary>Every page of RAM has been received.</summary>
    public bool IsComplete => (ulong)Count == PageCount;

    public bool Contains(PageIndex page)
    {
        CheckPage(page);
        return (Volatile.Read(ref words[page.Value >> 6]) & Bit(page)) != 0;
    }

    /// <summary>Marks a page received; true when this call set it (false when it already was).</summary>
    public bool Mark(PageIndex page)
    {
        CheckPage(page);
        ref ulong word = ref words[page.Value >> 6];
        ulong bit = Bit(page);
        if ((Volatile.Read(ref word) & bit) != 0) return false;
        if ((Interlocked.Or(ref word, bit) & bit) != 0) return false; // another thread set it first
        Interlocked.Increment(ref count);
        return true;
    }

    /// <summary>
    /// A copy of the bitmap as it is now (set bit = received), in the layout of <see cref="DirtyBitmap"/>. Pages marked
    /// while the copy is taken may or may not be in it.
    /// </summary>
    public DirtyBitmap Snapshot()
    {
        var copy = new DirtyBitmap(PageCount);
        var target = copy.Words;
        for (int i = 0; i < words.Length; i++) target[i] = Volatile.Read(ref words[i]);
        return copy;
    }

    /// <summary>The pages not received yet (a snapshot), in ascending order.</summary>
    public IEnumerable<PageIndex> Missing()
    {
        for (int i = 0; i < words.Length; i++)
        {
            ulong missing = ~Volatile.Read(ref words[i]);
            if (i == words.Length - 1 && (PageCount & 63) != 0) missing &= (1UL << (int)(PageCount & 63)) - 1;
            while (missing != 0)
            {
                int bit = BitOperations.TrailingZeroCount(missing);
                missing &= missing - 1;
                yield return new PageIndex(((ulong)i << 6) | (uint)bit);
            }
        }
    }

    private static ulong Bit(PageIndex page) => 1UL << (int)(page.Value & 63);

    private void CheckPage(PageIndex page)
    {
        if (page.Value >= PageCount) ThrowOutside(page);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowOutside(PageIndex page) =>
        throw new ArgumentOutOfRangeException(nameof(page), $"{page} is outside guest RAM ({PageCount} pages)");
}
