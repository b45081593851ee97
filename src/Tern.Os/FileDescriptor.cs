using System.Runtime.InteropServices;
using Tern.Os.Libc;

namespace Tern.Os;

/// <summary>An owned Linux file descriptor, closed exactly once when disposed or finalized.</summary>
public sealed class FileDescriptor : SafeHandle
{
    public FileDescriptor(int fd, bool ownsHandle = true) : base(new nint(-1), ownsHandle) => SetHandle(fd);

    /// <summary>For the P/Invoke marshaller, which creates handles for returned descriptors.</summary>
    public FileDescriptor() : base(new nint(-1), ownsHandle: true) { }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw descriptor number, for ioctl and mmap. Valid only while this object is alive.</summary>
    public int Number => (int)handle;

    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;

    /// <summary>Opens a device or file read-write with close-on-exec.</summary>
    public static FileDescriptor OpenReadWrite(string path, Func<int, string?>? adviceForErrno = null)
    {
        int fd = LibC.Open(path, LibCConstants.O_RDWR | LibCConstants.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new OsException($"open {path}", errno, adviceForErrno?.Invoke(errno));
        }
        return new FileDescriptor(fd);
    }

    /// <summary>Wraps a descriptor number returned by an ioctl that creates one (KVM_CREATE_VM, KVM_CREATE_VCPU).</summary>
    public static FileDescriptor FromReturnedNumber(int fd) => new(fd);
}
