using Tern.Os;

namespace Tern.Memory;

/// <summary>
/// Guest RAM backed by a memfd and mapped <c>MAP_SHARED</c>, contiguous from guest-physical address 0. The memfd lets
/// post-copy add a second mapping of the same pages (one registered with userfaultfd, one for placing pages).
/// </summary>
public sealed class GuestRam : IGuestMemory, IDisposable
{
    private const ulong HugePageSize = 2UL << 20;

    private readonly FileDescriptor memfd;
    private readonly MemoryMapping mapping;

    private GuestRam(FileDescriptor memfd, MemoryMapping mapping, ulong size, bool hugePages)
    {
        this.memfd = memfd;
        this.mapping = mapping;
        Size = size;
        HugePages = hugePages;
    }

    /// <summary>Allocates <paramref name="size"/> bytes of zeroed guest RAM.</summary>
    public static GuestRam Create(ulong size, bool hugePages = false)
    {
        if (size == 0 || size % PageSize.Bytes != 0)
            throw new ArgumentException($"guest RAM must be a positive multiple of {PageSize.Bytes} bytes, got {size}", nameof(size));
        if (hugePages && size % HugePageSize != 0)
            throw new ArgumentException($"with huge pages, guest RAM must be a multiple of 2 MiB, got {ByteSize.Format(size)}", nameof(size));
        var fd = MemFd.Create("tern-guest-ram", size, hugePages);
        try
        {
            if (hugePages) MemFd.ReserveHugePages(fd, size);
            var mapping = MemoryMapping.MapShared(fd, size, 0, hugePages);
            // 4 KiB pages make a guest that sweeps a large working set miss the TLB on every page: QEMU's anonymous
            // RAM gets transparent huge pages, and a memfd gets them too where the host's shmem THP setting allows
            // advice. Measured (docs/benchmarks.md, issue 12): seq:ws=512M ran at 0.6x QEMU's speed on 4 KiB pages.
            if (!hugePages) mapping.TryAdviseHugePages();
            return new GuestRam(fd, mapping, size, hugePages);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public ulong Size { get; }
    public ulong PageCount => Size / PageSize.Bytes;
    public bool HugePages { get; }

    /// <summary>The host virtual address of guest-physical address 0, for KVM memory slots.</summary>
    public nint HostAddress => mapping.Address;

    /// <summary>The backing memfd, for a second mapping of the same RAM.</summary>
    public FileDescriptor BackingFile => memfd;

    public Span<byte> GetSpan(GuestAddress address, int length) => mapping.GetSpan(address.Value, length);

    public Span<byte> GetPageSpan(PageIndex page) => GetSpan(page.Address, PageSize.Bytes);

    public void ReadPage(PageIndex page, Span<byte> destination)
    {
        CheckPage(page);
        GetPageSpan(page).CopyTo(destination[..PageSize.Bytes]);
    }

    public void WritePage(PageIndex page, ReadOnlySpan<byte> source)
    {
        CheckPage(page);
        if (source.Length != PageSize.Bytes)
            throw new ArgumentException($"a page is {PageSize.Bytes} bytes, got {source.Length}", nameof(source));
        source.CopyTo(GetPageSpan(page));
    }

    /// <summary>
    /// Through the memfd (<c>pwritev</c>) rather than the mapping: the kernel allocates a fresh page without zeroing it
    /// and without a page fault in this process, so a page arriving into untouched RAM costs one copy. Measured on a
    /// host that is itself a kvm_pvm guest (docs/benchmarks.md, issue 12): twice the rate of populate-then-copy. The
    /// mapping (and KVM's view of it) sees the same pages: it is MAP_SHARED over this file. Huge-page RAM (hugetlbfs
    /// takes no writes) says false, and so does a host whose shmem transparent huge pages come only by advice
    /// (<c>shmem_enabled</c> = advise): a write through the file carries no advice and would get 4 KiB pages where
    /// a fault through the advised mapping gets 2 MiB ones, which the guest's TLB needs (see <see cref="Create"/>).
    /// </summary>
    public bool TryWritePages(PageIndex first, ReadOnlySpan<byte> source, ReadOnlySpan<int> sourceOffsets)
    {
        if (HugePages || ShmemHugePagesOnlyByAdvice) return false;
        CheckPage(first);
        if ((ulong)sourceOffsets.Length > PageCount - first.Value) ThrowPageOutOfRange(new PageIndex(first.Value + (ulong)sourceOffsets.Length - 1));
        return MemFd.TryWritePages(memfd, first.Address.Value, source, sourceOffsets, PageSize.Bytes);
    }

    /// <summary>
    /// Writes consecutive pages (<paramref name="data"/>, back to back) into the memfd from <paramref name="first"/> on,
    /// without touching the mapping: for post-copy's overwrite in place, where the pages are not mapped and an access
    /// through the mapping would fault (MINOR mode) until UFFDIO_CONTINUE maps them. Not for huge-page RAM.
    /// </summary>
    public void WritePagesThroughFile(PageIndex first, ReadOnlySpan<byte> data)
    {
        if (HugePages) throw new NotSupportedException("huge-page guest RAM takes no writes through its file");
        if (data.Length == 0 || data.Length % PageSize.Bytes != 0)
            throw new ArgumentException($"a run of pages is a positive multiple of {PageSize.Bytes} bytes, got {data.Length}", nameof(data));
        int pages = data.Length / PageSize.Bytes;
        CheckPage(first);
        if ((ulong)pages > PageCount - first.Value) ThrowPageOutOfRange(new PageIndex(first.Value + (ulong)pages - 1));
        for (int done = 0; done < pages; done += MemFd.MaxPagesPerWrite)
        {
            int n = Math.Min(MemFd.MaxPagesPerWrite, pages - done);
            MemFd.TryWritePages(memfd, first.Address.Value + (ulong)done * PageSize.Bytes, data.Slice(done * PageSize.Bytes, n * PageSize.Bytes),
                PageOffsets.AsSpan(0, n), PageSize.Bytes);
        }
    }

    /// <summary>Unmaps pages from this process (and KVM) and keeps their data in the memfd (<see cref="MemoryMapping.Unmap"/>).</summary>
    public void UnmapPages(PageIndex first, ulong count)
    {
        CheckPage(first);
        if (count > PageCount - first.Value) ThrowPageOutOfRange(new PageIndex(first.Value + count - 1));
        mapping.Unmap(first.Address.Value, count * PageSize.Bytes);
    }

    /// <summary>0, 4096, 8192, ...: the offsets of consecutive pages in a run, for one pwritev.</summary>
    private static readonly int[] PageOffsets = Enumerable.Range(0, MemFd.MaxPagesPerWrite).Select(k => k * PageSize.Bytes).ToArray();

    private static readonly bool ShmemHugePagesOnlyByAdvice = ReadShmemHugePagesOnlyByAdvice();

    private static bool ReadShmemHugePagesOnlyByAdvice()
    {
        try
        {
            return File.ReadAllText("/sys/kernel/mm/transparent_hugepage/shmem_enabled").Contains("[advise]", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false; // no THP on this kernel: nothing to lose
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public IEnumerable<GuestRange> PopulatedRanges()
    {
        foreach (var (start, length) in MemFd.DataRanges(memfd, Size))
        {
            // Backing pages may be larger than guest pages (huge pages): the range is aligned to them already.
            ulong first = start & ~PageSize.OffsetMask;
            ulong end = Math.Min((start + length + PageSize.OffsetMask) & ~PageSize.OffsetMask, Size);
            yield return new GuestRange(new GuestAddress(first), end - first);
        }
    }

    public bool IsPopulated(PageIndex page)
    {
        CheckPage(page);
        return MemFd.HasData(memfd, page.Address.Value, PageSize.Bytes);
    }

    /// <summary>Pre-faults a range for writing so the first guest or migration write does not pay the page fault.</summary>
    public void Prefault(GuestAddress start, ulong length) => mapping.PopulateWrite(start.Value, length);

    public bool TryPrefault(GuestRange range) => mapping.TryPopulateWrite(range.Start.Value, range.Length);

    private void CheckPage(PageIndex page)
    {
        if (page.Value >= PageCount) ThrowPageOutOfRange(page);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowPageOutOfRange(PageIndex page) =>
        throw new ArgumentOutOfRangeException(nameof(page), $"{page} is outside guest RAM ({PageCount} pages)");

    public void Dispose()
    {
        mapping.Dispose();
        memfd.Dispose();
    }
}
