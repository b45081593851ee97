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

    /// <summary>
    /// Reserves the huge pages of a hugetlb memfd now, so that running out shows up as a clear error at start
    /// rather than as SIGBUS when the guest first touches a page.
    /// </summary>
    public static void ReserveHugePages(FileDescriptor fd, ulong size)
    {
        if (LibC.Fallocate(fd.Number, 0, 0, (long)size) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new OsException($"reserve {size / (1 << 20)} MiB of huge pages", errno,
                $"Reserve enough 2 MiB huge pages first, e.g. `echo {size / (2 << 20)} > /proc/sys/vm/nr_hugepages`, or run without --huge-pages.");
        }
    }
}
