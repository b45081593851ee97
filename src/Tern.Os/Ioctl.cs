using System.Runtime.InteropServices;
using Tern.Os.Libc;

namespace Tern.Os;

/// <summary>
/// Checked ioctl calls: every failure raises <see cref="OsException"/> naming the ioctl and errno.
/// The pointer overloads are for binding layers (Tern.Kvm) that pass kernel structs.
/// </summary>
public static unsafe class Ioctl
{
    /// <summary>Builds an ioctl request number like the kernel's <c>_IOC</c> macro.</summary>
    public static nuint Encode(uint direction, uint type, uint number, uint size) =>
        (nuint)((direction << 30) | (size << 16) | (type << 8) | number);

    public const uint None = 0, Write = 1, Read = 2;

    /// <summary>ioctl with a value argument; returns the non-negative result.</summary>
    public static int Call(FileDescriptor fd, nuint request, nuint argument, string name)
    {
        int rc = LibC.Ioctl(fd, request, argument);
        if (rc < 0) OsException.ThrowLastError($"ioctl {name}");
        return rc;
    }

    /// <summary>ioctl with a pointer argument; returns the non-negative result.</summary>
    public static int Call(FileDescriptor fd, nuint request, void* argument, string name)
    {
        int rc = LibC.Ioctl(fd, request, argument);
        if (rc < 0) OsException.ThrowLastError($"ioctl {name}");
        return rc;
    }

    /// <summary>ioctl that reports failure as an errno instead of throwing (for calls where EINTR etc. are expected).</summary>
    public static int TryCall(FileDescriptor fd, nuint request, void* argument, out int errno)
    {
        int rc = LibC.Ioctl(fd, request, argument);
        errno = rc < 0 ? Marshal.GetLastPInvokeError() : 0;
        return rc;
    }

    /// <summary>ioctl on a raw descriptor number the caller keeps alive (the vCPU run loop, where every ns counts).</summary>
    public static int TryCallRaw(int fd, nuint request, nuint argument, out int errno)
    {
        int rc = LibC.Ioctl(fd, request, argument);
        errno = rc < 0 ? Marshal.GetLastPInvokeError() : 0;
        return rc;
    }
}
