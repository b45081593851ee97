using System.Numerics;

namespace Tern.Memory.Dirty;

/// <summary>
/// One bit per guest page. Single-writer methods for the migration engine, and <see cref="SetAtomic"/> /
/// <see cref="DrainInto"/> for trackers that are written by several threads at once.
/// </summary>
public sealed class DirtyBitmap
{
    private readonly ulong[] words;

    public DirtyBitmap(ulong pageCount)
    {
        PageCount = pageCount;
        words = new ulong[(pageCount + 63) / 64];
    }

    public ulong PageCount { get; }

    /// <summary>The raw words, 64 pages each, page 0 in bit 0 of word 0 (the layout KVM uses).</summary>
    public Span<ulong> Words => words;

    public bool IsSet(PageIndex page) => (words[page.Value >> 6] & (1UL << (int)(page.Value & 63))) != 0;

    public void Set(PageIndex page)
    {
        CheckPage(page);
        words[page.Value >> 6] |= 1UL << (int)(page.Value & 63);
    }

    public void Clear(PageIndex page)
    {
        CheckPage(page);
        words[page.Value >> 6] &= ~(1UL << (int)(page.Value & 63));
    }

    /// <summary>Thread-safe set, for trackers marking pages from several threads.</summary>
    public void SetAtomic(PageIndex page)
    {
        CheckPage(page);
        ref ulong word = ref words[page.Value >> 6];
        ulong bit = 1UL << (int)(page.Value & 63);
        if ((Volatile.Read(ref word) & bit) == 0) Interlocked.Or(ref word, bit);
    }

    public void SetAll()
    {
        Array.Fill(words, ulong.MaxValue);
        TrimTail();
    }

    public void ClearAll() => Array.Clear(words);

    public long Count()
    {
        long n = 0;
        foreach (var w in words) n += BitOperations.PopCount(w);
        return n;
    }

    /// <summary>ORs <paramref name="other"/> into this bitmap.</summary>
    public void Or(DirtyBitmap other)
    {
        if (other.PageCount != PageCount) throw new ArgumentException("bitmaps cover different page counts", nameof(other));
        for (int i = 0; i < words.Length; i++) words[i] |= other.words[i];
    }

    /// <summary>
    /// Moves every set bit into <paramref name="target"/> and clears it here, word by word with an atomic exchange, so
    /// that bits set concurrently by other threads are either moved now or kept for the next drain, never lost.
    /// Returns the number of bits moved.
    /// </summary>
    public long DrainInto(DirtyBitmap target)
    {
        if (target.PageCount != PageCount) throw new ArgumentException("bitmaps cover different page counts", nameof(target));
        long added = 0;
        for (int i = 0; i < words.Length; i++)
        {
            if (Volatile.Read(ref words[i]) == 0) continue;
            ulong w = Interlocked.Exchange(ref words[i], 0);
            added += BitOperations.PopCount(w);
            target.words[i] |= w;
        }
        return added;
    }

    /// <summary>Enumerates set pages in ascending order.</summary>
    public SetPageEnumerator SetPages() => new(this, 0);

    /// <summary>Enumerates set pages in ascending order from <paramref name="start"/>.</summary>
    public SetPageEnumerator SetPagesFrom(PageIndex start) => new(this, start.Value);

    private void TrimTail()
    {
        int extra = (int)(PageCount & 63);
        if (extra != 0) words[^1] &= (1UL << extra) - 1;
    }

    private void CheckPage(PageIndex page)
    {
        if (page.Value >= PageCount)
            throw new ArgumentOutOfRangeException(nameof(page), $"{page} is outside the bitmap ({PageCount} pages)");
    }

    /// <summary>Allocation-free enumerator over set bits.</summary>
    public struct SetPageEnumerator
    {
        private readonly ulong[] words;
        private int wordIndex;
        private ulong current;

        internal SetPageEnumerator(DirtyBitmap bitmap, ulong start)
        {
            words = bitmap.words;
            wordIndex = (int)(start >> 6);
            current = wordIndex < words.Length ? words[wordIndex] & (ulong.MaxValue << (int)(start & 63)) : 0;
            Current = default;
        }

        public PageIndex Current { get; private set; }

        public bool MoveNext()
        {
            while (current == 0)
            {
                if (++wordIndex >= words.Length) return false;
                current = words[wordIndex];
            }
            int bit = BitOperations.TrailingZeroCount(current);
            current &= current - 1;
            Current = new PageIndex(((ulong)wordIndex << 6) | (uint)bit);
            return true;
        }

        public readonly SetPageEnumerator GetEnumerator() => this;
    }
}
