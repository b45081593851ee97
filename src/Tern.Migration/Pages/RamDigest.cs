using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Tern.Memory;
using Tern.Os.Native;

namespace Tern.Migration.Pages;

/// <summary>
/// The end-to-end RAM digest behind <c>x-verify</c>: XXH3-64 over guest pages in increasing page-index order, taken
/// on both sides while the guest is paused. Not thread-safe.
/// </summary>
/// <remarks>
/// <para><b>What is hashed.</b> The bytes of the pages, in index order, as one XXH3 stream. Wherever the sequence is
/// not contiguous (the first page is not page 0, or a page does not follow the previous one) an 8-byte little-endian
/// marker holding the new page index is hashed first, so the digest covers which pages were hashed and not just
/// their bytes. Contiguous pages add no markers, so hashing page by page (<see cref="AddPage"/>) and hashing a run of
/// pages at once (<see cref="DigestRange"/>) give the same digest for the same pages: the source can hash the copies
/// it sends while the destination hashes its memory in large contiguous spans.</para>
/// <para><b>Speed.</b> <see cref="DigestRange"/> is one native update call for any number of pages: use it for guest
/// memory regions (XXH3 runs at memory bandwidth).</para>
/// </remarks>
public sealed class RamDigest : IDisposable
{
    private readonly XxHash3Stream _stream = new();
    private PageIndex _next;

    /// <summary>Pages hashed so far.</summary>
    public long PagesHashed { get; private set; }

    /// <summary>Adds one page (exactly 4096 bytes); <paramref name="page"/> must come after every page added before.</summary>
    public void AddPage(PageIndex page, ReadOnlySpan<byte> contents)
    {
        if (contents.Length != PageSize.Bytes) ThrowLength(contents.Length, "a page");
        Add(page, contents, pages: 1);
    }

    /// <summary>
    /// Adds the contiguous pages <paramref name="first"/>, <paramref name="first"/>+1, … held in
    /// <paramref name="pages"/> (a whole number of pages) with a single hash update.
    /// </summary>
    public void DigestRange(PageIndex first, ReadOnlySpan<byte> pages)
    {
        if (pages.Length % PageSize.Bytes != 0) ThrowLength(pages.Length, "a range of whole pages");
        if (pages.IsEmpty) return;
        Add(first, pages, pages.Length / PageSize.Bytes);
    }

    /// <summary>The digest of everything added so far (adding may continue).</summary>
    public ulong Value => _stream.Digest();

    /// <summary>Starts over, for a new digest.</summary>
    public void Reset()
    {
        _stream.Reset();
        _next = default;
        PagesHashed = 0;
    }

    public void Dispose() => _stream.Dispose();

    private void Add(PageIndex first, ReadOnlySpan<byte> bytes, int pages)
    {
        if (PagesHashed > 0 && first < _next) ThrowOrder(first, _next);
        if (first != _next)
        {
            Span<byte> marker = stackalloc byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64LittleEndian(marker, first.Value);
            _stream.Update(marker);
        }
        _stream.Update(bytes);
        _next = new PageIndex(checked(first.Value + (ulong)pages));
        PagesHashed += pages;
    }

    [DoesNotReturn]
    private static void ThrowLength(int length, string what) =>
        throw new ArgumentException($"the RAM digest takes {what} ({PageSize.Bytes}-byte multiples), not {length} bytes");

    [DoesNotReturn]
    private static void ThrowOrder(PageIndex page, PageIndex next) =>
        throw new ArgumentException($"the RAM digest takes pages in increasing order: {page} came after pages up to {next.Value - 1}");
}
