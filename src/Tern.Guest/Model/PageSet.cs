using System.Collections;
using System.Numerics;
using Tern.Memory;

namespace Tern.Guest;

/// <summary>A set of guest pages, as a bitmap over [0, RAM).</summary>
public sealed class PageSet : IEnumerable<PageIndex>
{
    private readonly ulong[] _bits;

    public PageSet(ulong ramBytes)
    {
        PageCapacity = ramBytes / PageSize.Bytes;
        _bits = new ulong[(PageCapacity + 63) / 64];
    }

    /// <summary>Pages the set can hold: [0, PageCapacity).</summary>
    public ulong PageCapacity { get; }

    public ulong Count { get; private set; }

    /// <summary>The bitmap: bit n of word n / 64 is page n (the KVM dirty-log layout).</summary>
    public ReadOnlySpan<ulong> Bitmap => _bits;

    /// <summary>Adds a page; returns false if it was already there.</summary>
    public bool Add(PageIndex page)
    {
        ref ulong word = ref _bits[page.Value >> 6];
        ulong bit = 1UL << (int)(page.Value & 63);
        if ((word & bit) != 0) return false;
        word |= bit;
        Count++;
        return true;
    }

    public void AddRange(PageIndex first, ulong count)
    {
        for (ulong p = 0; p < count; p++) Add(new PageIndex(first.Value + p));
    }

    public void UnionWith(PageSet other)
    {
        if (other.PageCapacity != PageCapacity) throw new ArgumentException("page sets of different RAM sizes", nameof(other));
        ulong count = 0;
        for (int i = 0; i < _bits.Length; i++)
        {
            _bits[i] |= other._bits[i];
            count += (ulong)BitOperations.PopCount(_bits[i]);
        }
        Count = count;
    }

    public bool Contains(PageIndex page) =>
        page.Value < PageCapacity && (_bits[page.Value >> 6] & (1UL << (int)(page.Value & 63))) != 0;

    /// <summary>True if every page of this set is in <paramref name="other"/>.</summary>
    public bool IsSubsetOf(PageSet other)
    {
        if (other.PageCapacity != PageCapacity) throw new ArgumentException("page sets of different RAM sizes", nameof(other));
        for (int i = 0; i < _bits.Length; i++)
            if ((_bits[i] & ~other._bits[i]) != 0) return false;
        return true;
    }

    public IEnumerator<PageIndex> GetEnumerator()
    {
        for (int i = 0; i < _bits.Length; i++)
        {
            ulong word = _bits[i];
            while (word != 0)
            {
                int bit = BitOperations.TrailingZeroCount(word);
                yield return new PageIndex(((ulong)i << 6) + (ulong)bit);
                word &= word - 1;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{Count} pages";
}
