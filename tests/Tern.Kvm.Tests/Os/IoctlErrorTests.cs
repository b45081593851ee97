using Tern.Os;

namespace Tern.Kvm.Tests.Os;

/// <summary>A failed ioctl raises an exception that names the ioctl and the errno, through the one checked helper.</summary>
public sealed class IoctlErrorTests
{
    [Fact]
    public void A_kvm_ioctl_on_dev_null_names_the_ioctl_and_ENOTTY()
    {
        using var fd = FileDescriptor.OpenReadWrite("/dev/null");
        var e = Assert.Throws<OsException>(() => Ioctl.Call(fd, KvmIoctls.GetApiVersion, 0, "KVM_GET_API_VERSION"));
        Assert.Equal(Errno.ENOTTY, e.ErrorNumber);
        Assert.Equal("ioctl KVM_GET_API_VERSION", e.Operation);
        Assert.StartsWith("ioctl KVM_GET_API_VERSION failed: ENOTTY", e.Message);
    }

    [Fact]
    public void A_vm_ioctl_on_a_memfd_names_the_ioctl_and_ENOTTY()
    {
        using var fd = MemFd.Create("tern-ioctl-test", 4096);
        var e = Assert.Throws<OsException>(() => Ioctl.Call(fd, KvmIoctls.GetDirtyLog, 0, "KVM_GET_DIRTY_LOG"));
        Assert.Equal(Errno.ENOTTY, e.ErrorNumber);
        Assert.Contains("ioctl KVM_GET_DIRTY_LOG failed: ENOTTY", e.Message);
    }

    [Fact]
    public void A_closed_descriptor_is_refused_before_the_kernel_sees_it()
    {
        // The SafeHandle marshaller will not pass a disposed descriptor: a use-after-close cannot hit a reused fd number.
        var fd = FileDescriptor.OpenReadWrite("/dev/null");
        fd.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Ioctl.Call(fd, KvmIoctls.GetApiVersion, 0, "KVM_GET_API_VERSION"));
    }

    [Fact]
    public void TryCall_reports_the_errno_instead_of_throwing()
    {
        using var fd = FileDescriptor.OpenReadWrite("/dev/null");
        int rc = Ioctl.TryCallRaw(fd.Number, KvmIoctls.CheckExtension, 0, out int errno);
        Assert.Equal(-1, rc);
        Assert.Equal(Errno.ENOTTY, errno);
    }
}
