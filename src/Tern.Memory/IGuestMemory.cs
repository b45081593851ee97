namespace Tern.Memory;

/// <summary>
/// Guest-physical RAM as the migration engine and devices see it. The guest may change any byte at any time while
/// it runs: copy a page (<see cref="ReadPage"/>) before hashing, encoding or sending it.
/// </summary>
public interface IGuestMemory
{
    /// <summary>Bytes of RAM, a multiple of the page size.</summary>
    ulong Size { get; }

    ulong PageCount { get; }

    /// <summary>Copies one page out of guest RAM.</summary>
    void ReadPage(PageIndex page, Span<byte> destination);

    /// <summary>Copies one page into guest RAM.</summary>
    void WritePage(PageIndex page, ReadOnlySpan<byte> source);

    /// <summary>A live, bounds-checked view of guest RAM. The guest may write it concurrently.</summary>
    Span<byte> GetSpan(GuestAddress address, int length);

    /// <summary>
    /// The page-aligned ranges of RAM that may hold non-zero bytes, in ascending order; RAM outside them is zero and
    /// has never been touched (reading it would only allocate zero pages). A snapshot: the guest may touch more later.
    /// </summary>
    IEnumerable<GuestRange> PopulatedRanges();

    /// <summary>
    /// False when the page has never been touched (a hole that reads as zero and would be allocated by reading it).
    /// Memory that cannot tell says true.
    /// </summary>
    bool IsPopulated(PageIndex page) => true;

    /// <summary>
    /// Allocates the backing of a page-aligned range for writing in one call, leaving its contents as they are, so that
    /// the first writes into it do not each take a page fault. False when the host cannot (the kernel predates
    /// <c>MADV_POPULATE_WRITE</c>): the writes then fault as usual.
    /// </summary>
    bool TryPrefault(GuestRange range);

    /// <summary>
    /// Copies consecutive pages <paramref name="first"/>, first + 1, ... into guest RAM in one call, page k from the
    /// 4 KiB at <paramref name="sourceOffsets"/>[k] in <paramref name="source"/>, where that is cheaper than copying
    /// page by page through a mapping (see <c>GuestRam</c>). False when this memory cannot (the caller then writes each
    /// page with <see cref="WritePage"/>); nothing has been written then.
    /// </summary>
    bool TryWritePages(PageIndex first, ReadOnlySpan<byte> source, ReadOnlySpan<int> sourceOffsets) => false;
}
