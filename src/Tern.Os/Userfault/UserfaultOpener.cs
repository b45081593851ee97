using System.Runtime.InteropServices;
using Tern.Os.Libc;

namespace Tern.Os.Userfault;

/// <summary>
/// Creates a userfaultfd and performs its API handshake. Two ways in: <c>/dev/userfaultfd</c> with
/// USERFAULTFD_IOC_NEW (Linux 6.1+, access governed by the device node's permissions), else the userfaultfd system
/// call (governed by vm.unprivileged_userfaultfd or CAP_SYS_PTRACE). Kernel-mode faults must be delivered (KVM takes
/// the guest's faults in kernel mode), so UFFD_USER_MODE_ONLY is never passed: only O_CLOEXEC and O_NONBLOCK.
/// </summary>
internal static unsafe class UserfaultOpener
{
    private const string DevicePath = "/dev/userfaultfd";

    private const string Advice =
        "userfaultfd is not available: is /dev/userfaultfd readable and writable by this user, " +
        "or is vm.unprivileged_userfaultfd set to 1 (or does the process have CAP_SYS_PTRACE)?";

    public static FileDescriptor Create(bool nonBlocking)
    {
        int flags = LibCConstants.O_CLOEXEC | (nonBlocking ? LibCConstants.O_NONBLOCK : 0);
        int deviceErrno = TryCreateThroughDevice(flags, out var fd);
        if (fd is not null) return fd;

        long number = LibC.Syscall(UserfaultIoctls.SyscallNumber, flags);
        if (number >= 0) return FileDescriptor.FromReturnedNumber((int)number);
        int syscallErrno = Marshal.GetLastPInvokeError();
        throw new OsException(
            $"open a userfaultfd ({DevicePath}: {Errno.Name(deviceErrno)}; then the userfaultfd system call)", syscallErrno, Advice);
    }

    /// <summary>Returns 0 and the new fd, or the errno of whichever step failed (fd null).</summary>
    private static int TryCreateThroughDevice(int flags, out FileDescriptor? fd)
    {
        fd = null;
        int device = LibC.Open(DevicePath, LibCConstants.O_RDWR | LibCConstants.O_CLOEXEC, 0);
        if (device < 0) return Marshal.GetLastPInvokeError();
        using var deviceFd = new FileDescriptor(device);
        int number = Ioctl.TryCallRaw(device, UserfaultIoctls.New, (nuint)flags, out int errno);
        if (number < 0) return errno;
        fd = FileDescriptor.FromReturnedNumber(number);
        return 0;
    }

    /// <summary>
    /// UFFDIO_API with <paramref name="required"/> requested. The kernel refuses (EINVAL) a request for a feature it
    /// lacks without saying which; a second, throw-away fd then asks for nothing and learns what there is, so the
    /// error can name exactly what is missing.
    /// </summary>
    public static UserfaultFeatures Handshake(FileDescriptor fd, UserfaultFeatures required, bool nonBlocking)
    {
        var api = new UffdioApi { Api = UserfaultIoctls.ApiVersion, Features = (ulong)required };
        // &api is a stack local that lives across the call; the kernel reads and writes its 24 bytes.
        int rc = Ioctl.TryCall(fd, UserfaultIoctls.Api, &api, out int errno);
        if (rc < 0)
        {
            if (errno == Errno.EINVAL && required != UserfaultFeatures.None)
            {
                var available = Available(nonBlocking);
                var missing = required & ~available;
                if (missing != 0) throw Unsupported(missing);
            }
            throw new OsException("ioctl UFFDIO_API (userfaultfd handshake)", errno);
        }
        var granted = (UserfaultFeatures)api.Features;
        if ((granted & required) != required) throw Unsupported(required & ~granted);
        const ulong needed = 1UL << UserfaultIoctls.RegisterNumber | 1UL << UserfaultIoctls.UnregisterNumber;
        if ((api.Ioctls & needed) != needed)
            throw new OsException("ioctl UFFDIO_API (userfaultfd handshake)", Errno.EOPNOTSUPP,
                $"this kernel's userfaultfd offers no UFFDIO_REGISTER/UFFDIO_UNREGISTER (ioctl mask 0x{api.Ioctls:x})");
        return granted;
    }

    /// <summary>The features this kernel offers, from a handshake that asks for none on a fresh fd.</summary>
    internal static UserfaultFeatures Available(bool nonBlocking)
    {
        using var probe = Create(nonBlocking);
        var api = new UffdioApi { Api = UserfaultIoctls.ApiVersion };
        // &api is a stack local that lives across the call.
        Ioctl.Call(probe, UserfaultIoctls.Api, &api, "UFFDIO_API (probe of the available features)");
        return (UserfaultFeatures)api.Features;
    }

    internal static OsException Unsupported(UserfaultFeatures missing) =>
        new("userfaultfd handshake", Errno.EOPNOTSUPP,
            $"this kernel's userfaultfd lacks {UserfaultFeatureNames.Describe(missing)}; post-copy needs a kernel that has it, " +
            "or migrate with pre-copy only");
}
