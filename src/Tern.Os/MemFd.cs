using System.Runtime.InteropServices;
using Tern.Os.Libc;

namespace Tern.Os;

/// <summary>Anonymous shared memory files (<c>memfd_create</c>), the backing store of guest RAM.</summary>
public static class MemFd
{
    /// <summary>Creates a memfd of <paramref name="size"/> bytes. With huge pages, size must be a multiple of 2 MiB.</summary>
    public static FileDescriptor Create(string name, ulong size, bool hugePages = false)
    {
        uint flags = LibCConstants.MFD_CLOEXEC | (hugePages ? LibCConstants.MFD_HUGETLB : 0);
        int fd = LibC.MemfdCreate(name, flags);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new OsException($"memfd_create({name}{(hugePages ? ", MFD_HUGETLB" : "")})", errno,
                hugePages ? "Huge pages need hugetlbfs support in the kernel; run without --huge-pages or enable it." : null);
        }
        var descriptor = new FileDescriptor(fd);
        if (LibC.Ftruncate(fd, (long)size) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            descriptor.Dispose();
            throw new OsException($"ftruncate memfd to {size} bytes", errno);
        }
        return descriptor;
    }

    /// <summary>Most pages one <see cref="TryWritePages"/> call takes (its iovec array lives on the stack).</summary>
    public const int MaxPagesPerWrite = 64;

    /// <summary>
    /// Writes consecutive pages into the file at <paramref name="fileOffset"/> with one <c>pwritev</c>: page k is the
    /// <paramref name="pageBytes"/> bytes at <paramref name="sourceOffsets"/>[k] in <paramref name="source"/>. The
    /// kernel copies them into the file's pages, allocating those it lacks without zeroing them first and without
    /// mapping them into this process: for a page arriving into fresh guest RAM that is one copy instead of a zeroing,
    /// a page fault and a copy. False when the file takes no writes (a hugetlbfs memfd: EINVAL); the caller then
    /// copies through its mapping.
    /// </summary>
    public static unsafe bool TryWritePages(FileDescriptor fd, ulong fileOffset, ReadOnlySpan<byte> source, ReadOnlySpan<int> sourceOffsets, int pageBytes)
    {
        int count = sourceOffsets.Length;
        if (count is < 1 or > MaxPagesPerWrite) throw new ArgumentOutOfRangeException(nameof(sourceOffsets), count, $"1 to {MaxPagesPerWrite} pages a call");
        foreach (int offset in sourceOffsets)
            if (offset < 0 || offset > source.Length - pageBytes) throw new ArgumentOutOfRangeException(nameof(sourceOffsets), offset, $"a page at {offset} does not fit in {source.Length} bytes");
        IoVec* iov = stackalloc IoVec[count];
        // source stays pinned for the call; every iovec lies inside it (checked above), and pwritev only reads them.
        fixed (byte* start = source)
        {
            for (int k = 0; k < count; k++) iov[k] = new IoVec { Base = start + sourceOffsets[k], Length = (nuint)pageBytes };
            long total = (long)count * pageBytes;
            long done = 0;
            int first = 0;
            while (done < total)
            {
                nint n = LibC.Pwritev(fd.Number, iov + first, count - first, (long)fileOffset + done);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR) continue;
                    if (errno == Errno.EINVAL && done == 0) return false;
                    throw new OsException($"pwritev of {count} pages into the memfd at offset {fileOffset}", errno);
                }
                done += n;
                // A short write (rare for a memfd): skip the iovecs written, trim the one written in part.
                while (first < count && n >= (nint)iov[first].Length) { n -= (nint)iov[first].Length; first++; }
                if (first < count && n > 0) { iov[first].Base = (byte*)iov[first].Base + n; iov[first].Length -= (nuint)n; }
            }
        }
        return true;
    }

    /// <summary>
    /// Reserves the huge pages of a hugetlb memfd now, so that running out shows up as a clear error at start
    /// rather than as SIGBUS when the guest first touches a page.
    /// </summary>
    public static void ReserveHugePages(FileDescriptor fd, ulong size)
    {
        // The pool as it was before this memfd took anything: a failed fallocate keeps the pages it did get until
        // the memfd is closed, so reading the pool afterwards would count them as used by someone else.
        var poolBefore = HostHugePages.TryRead();
        if (LibC.Fallocate(fd.Number, 0, 0, (long)size) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new OsException($"reserve {size / (1 << 20)} MiB of huge pages", errno, HugePageAdvice(size, poolBefore));
        }
    }

    /// <summary>
    /// How many huge pages to reserve: what this memfd needs on top of those already in use, so the operator can
    /// paste the command even when other users hold some of the pool.
    /// </summary>
    private static string HugePageAdvice(ulong size, HostHugePages? poolBefore)
    {
        const ulong twoMiB = 2UL << 20;
        long needed = (long)(size / twoMiB);
        if (poolBefore is not { PageBytes: twoMiB } pool)
            return $"Reserve enough 2 MiB huge pages first, e.g. `echo {needed} > /proc/sys/vm/nr_hugepages`, or run without --huge-pages.";
        long target = pool.Total - pool.Free + needed;
        return $"This needs {needed} free 2 MiB huge pages and the host has {pool.Free} free of {pool.Total} reserved: " +
               $"reserve more first, e.g. `echo {target} > /proc/sys/vm/nr_hugepages` as root, or run without --huge-pages.";
    }

    /// <summary>
    /// Whether [<paramref name="offset"/>, +<paramref name="length"/>) of a memfd has a backing page: one
    /// lseek(SEEK_DATA), which finds a populated page at once (listing every range with <see cref="DataRanges"/> walks
    /// all populated pages: about 30 ms for 256 MiB here).
    /// </summary>
    public static bool HasData(FileDescriptor fd, ulong offset, ulong length)
    {
        long data = LibC.Lseek(fd.Number, (long)offset, LibCConstants.SEEK_DATA);
        if (data >= 0) return (ulong)data < offset + length;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.ENXIO) return false; // no data at or after offset
        throw new OsException("lseek(SEEK_DATA) on guest RAM", errno);
    }

    /// <summary>
    /// Frees the backing pages of [<paramref name="offset"/>, +<paramref name="length"/>) (page-aligned) and unmaps them
    /// from every mapping, leaving a hole that reads as zero, or, in a range registered with userfaultfd in MISSING
    /// mode, faults again: post-copy uses it to make pages whose data is stale missing before it serves them.
    /// </summary>
    public static void PunchHole(FileDescriptor fd, ulong offset, ulong length)
    {
        int mode = LibCConstants.FALLOC_FL_PUNCH_HOLE | LibCConstants.FALLOC_FL_KEEP_SIZE;
        if (LibC.Fallocate(fd.Number, mode, (long)offset, (long)length) != 0)
            OsException.ThrowLastError($"fallocate(PUNCH_HOLE) of {length} bytes at offset {offset} of guest RAM");
    }

    /// <summary>
    /// The ranges of a memfd that have backing pages (SEEK_DATA/SEEK_HOLE); everything else is a hole that reads as
    /// zero without being allocated. Reading a hole through a mapping allocates it, so callers that only need to know
    /// "zero" use this instead.
    /// </summary>
    public static IEnumerable<(ulong Start, ulong Length)> DataRanges(FileDescriptor fd, ulong size)
    {
        ulong offset = 0;
        while (offset < size)
        {
            long data = LibC.Lseek(fd.Number, (long)offset, LibCConstants.SEEK_DATA);
            if (data < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.ENXIO) yield break; // no data after offset
                throw new OsException("lseek(SEEK_DATA) on guest RAM", errno);
            }
            long hole = LibC.Lseek(fd.Number, data, LibCConstants.SEEK_HOLE);
            if (hole < 0) OsException.ThrowLastError("lseek(SEEK_HOLE) on guest RAM");
            ulong end = Math.Min((ulong)hole, size);
            if ((ulong)data >= end) yield break;
            yield return ((ulong)data, end - (ulong)data);
            offset = end;
        }
    }
}
