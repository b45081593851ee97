using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// Where <see cref="WorkloadModel.Apply{TPages}"/> writes: hands out one 4 KiB guest page at a time. It is asked
/// for a page once per write that touches it, so an implementation can record the page as dirty right there.
/// Implement it as a struct (or ref struct) so the JIT inlines it into the model's loops.
/// </summary>
public interface IGuestPageWriter
{
    /// <summary>The 4096 bytes of <paramref name="page"/>, writable.</summary>
    Span<byte> Page(PageIndex page);
}

/// <summary>Where <see cref="WorkloadModel.Verify{TPages}"/> reads guest memory, one 4 KiB page at a time.</summary>
public interface IGuestPageReader
{
    ReadOnlySpan<byte> Page(PageIndex page);
}

/// <summary>Guest RAM held in one span from GPA 0 (so at most 2 GiB).</summary>
public readonly ref struct SpanPageWriter(Span<byte> ram) : IGuestPageWriter
{
    private readonly Span<byte> _ram = ram;

    public Span<byte> Page(PageIndex page) => _ram.Slice(PageOffset.Of(page, _ram.Length), PageSize.Bytes);
}

/// <summary>
/// Guest RAM in one span from GPA 0, with a dirty bitmap (bit n of word n/64 = page n, KVM's layout) set for every
/// page written. Threads applying different vCPUs may share one bitmap: neighbouring slices can meet inside a word,
/// so a bit is set with an atomic OR (skipped when it is already set, the common case).
/// </summary>
public readonly ref struct DirtyTrackingPageWriter(Span<byte> ram, Span<ulong> dirtyBitmap) : IGuestPageWriter
{
    private readonly Span<byte> _ram = ram;
    private readonly Span<ulong> _dirty = dirtyBitmap;

    public Span<byte> Page(PageIndex page)
    {
        int offset = PageOffset.Of(page, _ram.Length);
        ref ulong word = ref _dirty[(int)(page.Value >> 6)];
        ulong bit = 1UL << (int)(page.Value & 63);
        if ((Volatile.Read(ref word) & bit) == 0) Interlocked.Or(ref word, bit);
        return _ram.Slice(offset, PageSize.Bytes);
    }
}

/// <summary>Read access to guest RAM held in one span from GPA 0.</summary>
public readonly ref struct SpanPageReader(ReadOnlySpan<byte> ram) : IGuestPageReader
{
    private readonly ReadOnlySpan<byte> _ram = ram;

    public ReadOnlySpan<byte> Page(PageIndex page) => _ram.Slice(PageOffset.Of(page, _ram.Length), PageSize.Bytes);
}

/// <summary>The byte offset of a page in a RAM span, checked once against the span's length.</summary>
internal static class PageOffset
{
    public static int Of(PageIndex page, int ramLength)
    {
        if (page.Value >= (ulong)(ramLength >> PageSize.Shift)) Throw(page, ramLength);
        return (int)(page.Value << PageSize.Shift);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Throw(PageIndex page, int ramLength) =>
        throw new ArgumentOutOfRangeException(nameof(page), $"{page} is beyond the {ramLength}-byte RAM span");
}
