using System.Runtime.InteropServices;

namespace Tern.Os.Libc;

/// <summary>
/// Raw libc entry points. Callers go through the typed wrappers in Tern.Os, which check results and turn
/// errno into <see cref="OsException"/>; nothing outside Tern.Os and Tern.Kvm calls these directly.
/// </summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    // ioctl is variadic in C; on x86-64 passing the third argument as a pointer-sized value is ABI-compatible.
    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, nuint request, nuint argument);

    // SafeHandle overloads: the marshaller keeps the descriptor alive for the duration of the call.
    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(FileDescriptor fd, nuint request, void* argument);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(FileDescriptor fd, nuint request, nuint argument);

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    internal static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(void* address, nuint length);

    [LibraryImport(Lib, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(void* address, nuint length, int advice);

    [LibraryImport(Lib, EntryPoint = "pwritev", SetLastError = true)]
    internal static partial nint Pwritev(int fd, IoVec* iov, int iovcnt, long offset);

    [LibraryImport(Lib, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Lib, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(int fd, long length);

    [LibraryImport(Lib, EntryPoint = "fallocate", SetLastError = true)]
    internal static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport(Lib, EntryPoint = "lseek", SetLastError = true)]
    internal static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport(Lib, EntryPoint = "pthread_self")]
    internal static partial nuint PthreadSelf();

    // Returns the error number instead of setting errno.
    [LibraryImport(Lib, EntryPoint = "pthread_kill")]
    internal static partial int PthreadKill(nuint thread, int signal);

    [LibraryImport(Lib, EntryPoint = "sigaction", SetLastError = true)]
    internal static partial int Sigaction(int signal, SigactionStruct* action, SigactionStruct* oldAction);

    [LibraryImport(Lib, EntryPoint = "sigemptyset", SetLastError = true)]
    internal static partial int Sigemptyset(void* set);

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long number);

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long number, long a1);

    [LibraryImport(Lib, EntryPoint = "sysconf", SetLastError = true)]
    internal static partial long Sysconf(int name);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(FileDescriptor fd, void* buffer, nuint count);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Lib, EntryPoint = "socketpair", SetLastError = true)]
    internal static partial int SocketPair(int domain, int type, int protocol, int* fds);

    // buffer: a struct statx (256 bytes, fixed by the kernel ABI; see StatxOffsets).
    [LibraryImport(Lib, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}

/// <summary>
/// Offsets in <c>struct statx</c> (linux/stat.h): a fixed 256-byte layout that only ever grows at the end.
/// </summary>
internal static class StatxOffsets
{
    public const int Size = 256;
    public const int Mode = 28; // __u16 stx_mode, after mask, blksize, attributes, nlink, uid, gid
}

/// <summary><c>struct pollfd</c> (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short ReturnedEvents;
}

/// <summary>glibc's <c>struct sigaction</c> on x86-64 (152 bytes; layout-tested against the C header).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SigactionStruct
{
    public nint Handler;
    public fixed ulong Mask[16];
    public int Flags;
    private int padding;
    public nint Restorer;
}

internal static class LibCConstants
{
    public const int O_RDWR = 0x2;
    public const int O_CLOEXEC = 0x80000;
    public const int O_NONBLOCK = 0x800;

    public const short POLLIN = 0x1;

    public const int PROT_NONE = 0x0;
    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;
    public const int PROT_EXEC = 0x4;

    public const int MAP_SHARED = 0x01;
    public const int MAP_PRIVATE = 0x02;
    public const int MAP_ANONYMOUS = 0x20;
    public const int MAP_NORESERVE = 0x4000;
    public const int MAP_POPULATE = 0x8000;
    public const int MAP_HUGETLB = 0x40000;

    public const uint MFD_CLOEXEC = 0x1;
    public const uint MFD_HUGETLB = 0x4;

    public const int MADV_DONTNEED = 4;
    public const int MADV_REMOVE = 9;
    public const int MADV_HUGEPAGE = 14;
    public const int MADV_POPULATE_WRITE = 23;

    public const int SEEK_DATA = 3;
    public const int SEEK_HOLE = 4;

    public const int FALLOC_FL_KEEP_SIZE = 0x01;
    public const int FALLOC_FL_PUNCH_HOLE = 0x02;

    public const int SA_ONSTACK = 0x08000000;

    public const long SYS_gettid = 186;

    public const int _SC_PAGESIZE = 30;

    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_CLOEXEC = 0x80000;

    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_TYPE = 0x1;
    public const int S_IFMT = 0xF000;
    public const int S_IFSOCK = 0xC000;
}

/// <summary><c>struct iovec</c> (16 bytes on x86-64).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}
