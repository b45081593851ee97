using System.Runtime.InteropServices;

namespace Tern.Os.Userfault;

// The structs of linux/userfaultfd.h that Tern passes to the kernel. Blittable, with the header's field order and
// sizes; tests/Tern.Kvm.Tests/Userfault/UserfaultLayoutTests.cs compares each with the real header on this machine.

/// <summary><c>struct uffdio_api</c> (24 bytes): the handshake that fixes the API version and features of one fd.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioApi
{
    public ulong Api;
    public ulong Features;
    public ulong Ioctls;
}

/// <summary><c>struct uffdio_range</c> (16 bytes): a page-aligned range of the caller's address space.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioRange
{
    public ulong Start;
    public ulong Len;
}

/// <summary><c>struct uffdio_register</c> (32 bytes); the kernel answers with the ioctls allowed on the range.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioRegister
{
    public UffdioRange Range;
    public ulong Mode;
    public ulong Ioctls;
}

/// <summary><c>struct uffdio_copy</c> (40 bytes); the kernel writes the bytes copied, or a negative errno, to Copy.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioCopy
{
    public ulong Dst;
    public ulong Src;
    public ulong Len;
    public ulong Mode;
    public long Copy;
}

/// <summary><c>struct uffdio_zeropage</c> (32 bytes); the kernel writes the bytes mapped, or a negative errno, to Zeropage.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioZeropage
{
    public UffdioRange Range;
    public ulong Mode;
    public long Zeropage;
}

/// <summary><c>struct uffdio_continue</c> (32 bytes); the kernel writes the bytes mapped, or a negative errno, to Mapped.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UffdioContinue
{
    public UffdioRange Range;
    public ulong Mode;
    public long Mapped;
}

/// <summary>
/// <c>struct uffd_msg</c> (32 bytes), what <c>read</c> returns: an event byte, then a union of which Tern decodes only
/// the page-fault member (<c>arg.pagefault</c>: flags, address, and the faulting thread id with UFFD_FEATURE_THREAD_ID).
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
internal struct UffdMsg
{
    public byte Event;
    public byte Reserved1;
    public ushort Reserved2;
    public uint Reserved3;
    public ulong PagefaultFlags;
    public ulong PagefaultAddress;
    public uint PagefaultPtid;
}
