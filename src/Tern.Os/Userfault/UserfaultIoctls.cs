namespace Tern.Os.Userfault;

/// <summary>The ioctl numbers and constants of linux/userfaultfd.h, in one place (layout-tested against the header).</summary>
internal static class UserfaultIoctls
{
    private const uint Type = 0xAA; // UFFDIO and USERFAULTFD_IOC

    /// <summary>USERFAULTFD_IOC_NEW = _IO(0xAA, 0x00), on /dev/userfaultfd: returns a new userfaultfd.</summary>
    public static readonly nuint New = Ioctl.Encode(Ioctl.None, Type, 0x00, 0);

    public static readonly nuint Api = Ioctl.Encode(Ioctl.Read | Ioctl.Write, Type, ApiNumber, 24);
    public static readonly nuint Register = Ioctl.Encode(Ioctl.Read | Ioctl.Write, Type, RegisterNumber, 32);
    public static readonly nuint Unregister = Ioctl.Encode(Ioctl.Read, Type, UnregisterNumber, 16);
    public static readonly nuint Wake = Ioctl.Encode(Ioctl.Read, Type, WakeNumber, 16);
    public static readonly nuint Copy = Ioctl.Encode(Ioctl.Read | Ioctl.Write, Type, CopyNumber, 40);
    public static readonly nuint ZeroPage = Ioctl.Encode(Ioctl.Read | Ioctl.Write, Type, ZeroPageNumber, 32);
    public static readonly nuint Continue = Ioctl.Encode(Ioctl.Read | Ioctl.Write, Type, ContinueNumber, 32);

    // _UFFDIO_*: the ioctl numbers, and the bit positions of the `ioctls` masks UFFDIO_API and UFFDIO_REGISTER return.
    public const int RegisterNumber = 0x00;
    public const int UnregisterNumber = 0x01;
    public const int WakeNumber = 0x02;
    public const int CopyNumber = 0x03;
    public const int ZeroPageNumber = 0x04;
    public const int ContinueNumber = 0x07;
    public const int ApiNumber = 0x3F;

    /// <summary>UFFD_API: the only API version there is.</summary>
    public const ulong ApiVersion = 0xAA;

    public const ulong RegisterModeMissing = 1UL << 0;
    public const ulong RegisterModeMinor = 1UL << 2;
    public const ulong ContinueModeDontWake = 1UL << 0;
    public const ulong CopyModeDontWake = 1UL << 0;
    public const ulong ZeroPageModeDontWake = 1UL << 0;

    public const byte EventPagefault = 0x12;
    public const ulong PagefaultFlagWrite = 1UL << 0;
    public const ulong PagefaultFlagMinor = 1UL << 2;

    /// <summary>The userfaultfd system call on x86-64, for kernels without /dev/userfaultfd (before 6.1).</summary>
    public const long SyscallNumber = 323;

    // UFFD_USER_MODE_ONLY (1) is deliberately absent: with it, faults KVM takes on behalf of a vCPU are not delivered
    // and the guest dies (docs in /work/shared/KVM-NOTES.md, userfaultfd section).
}
