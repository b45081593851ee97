using System.Runtime.InteropServices;
using Tern.Kvm.Structs;
using Tern.Os;

namespace Tern.Kvm;

/// <summary>
/// The KVM system file descriptor (<c>/dev/kvm</c>): capability queries, CPUID and MSR lists, and VM creation.
/// Opening it checks the API version and turns the usual failures into advice.
/// </summary>
public sealed unsafe class Kvm : IDisposable
{
    public const string DevicePath = "/dev/kvm";
    private const int ExpectedApiVersion = 12;

    private readonly FileDescriptor fd;

    private Kvm(FileDescriptor fd)
    {
        this.fd = fd;
        int version = Ioctl.Call(fd, KvmIoctls.GetApiVersion, 0, "KVM_GET_API_VERSION");
        if (version != ExpectedApiVersion)
        {
            fd.Dispose();
            throw new KvmUnavailableException($"{DevicePath} speaks KVM API version {version}, Tern needs {ExpectedApiVersion}. Update the host kernel.");
        }
        VcpuMmapSize = Ioctl.Call(fd, KvmIoctls.GetVcpuMmapSize, 0, "KVM_GET_VCPU_MMAP_SIZE");
    }

    /// <summary>True when <c>/dev/kvm</c> exists; tests use it to decide whether to skip.</summary>
    public static bool IsPresent => File.Exists(DevicePath);

    /// <summary>Opens /dev/kvm, or throws <see cref="KvmUnavailableException"/> saying what to do.</summary>
    public static Kvm Open()
    {
        try
        {
            return new Kvm(FileDescriptor.OpenReadWrite(DevicePath, Advice));
        }
        catch (OsException e)
        {
            throw new KvmUnavailableException(e.Message, e);
        }
    }

    /// <summary>What the operator can do about a failed open of /dev/kvm, by errno; null when Tern has no advice.</summary>
    internal static string? Advice(int errno) => errno switch
    {
        Errno.ENOENT or Errno.ENODEV or Errno.ENXIO =>
            "This host has no KVM: enable virtualization in the firmware and load the kvm module (modprobe kvm_intel or kvm_amd), " +
            "or run with --backend sim to use Tern's simulated guest.",
        Errno.EACCES or Errno.EPERM =>
            "Make sure this user can open /dev/kvm: add it to the kvm group (usermod -aG kvm $USER, then log in again) or run as root.",
        _ => null,
    };

    /// <summary>Bytes to map of each vCPU file descriptor for <c>struct kvm_run</c> and its extra pages.</summary>
    public int VcpuMmapSize { get; }

    internal FileDescriptor Handle => fd;

    /// <summary><c>KVM_CHECK_EXTENSION</c>: 0 when absent, otherwise a capability-specific positive value.</summary>
    public int CheckExtension(KvmCapability capability) =>
        Ioctl.Call(fd, KvmIoctls.CheckExtension, (nuint)(uint)capability, $"KVM_CHECK_EXTENSION({capability})");

    /// <summary>Throws a clear error when a capability Tern cannot work without is missing.</summary>
    public void RequireCapability(KvmCapability capability, string neededFor)
    {
        if (CheckExtension(capability) <= 0)
            throw new KvmUnavailableException($"KVM on this host lacks KVM_CAP_{capability} (needed for {neededFor}). Use a newer host kernel.");
    }

    public KvmVm CreateVm()
    {
        int vmFd = Ioctl.Call(fd, KvmIoctls.CreateVm, 0, "KVM_CREATE_VM");
        return new KvmVm(this, FileDescriptor.FromReturnedNumber(vmFd));
    }

    /// <summary><c>KVM_GET_SUPPORTED_CPUID</c>: the CPUID leaves KVM can present to a guest.</summary>
    public KvmCpuidEntry2[] GetSupportedCpuid()
    {
        for (int capacity = 128; ; capacity *= 2)
        {
            int bytes = sizeof(KvmCpuid2Header) + capacity * sizeof(KvmCpuidEntry2);
            byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)bytes);
            try
            {
                ((KvmCpuid2Header*)buffer)->Nent = (uint)capacity;
                if (Ioctl.TryCall(fd, KvmIoctls.GetSupportedCpuid, buffer, out int errno) < 0)
                {
                    if (errno == Errno.E2BIG && capacity < 65536) continue;
                    throw new OsException("ioctl KVM_GET_SUPPORTED_CPUID", errno);
                }
                int count = (int)((KvmCpuid2Header*)buffer)->Nent;
                return new ReadOnlySpan<KvmCpuidEntry2>(buffer + sizeof(KvmCpuid2Header), count).ToArray();
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    /// <summary><c>KVM_GET_MSR_INDEX_LIST</c>: the MSRs whose state KVM can save and restore.</summary>
    public uint[] GetMsrIndexList()
    {
        uint count = 0;
        // The first call reports the size with E2BIG.
        if (Ioctl.TryCall(fd, KvmIoctls.GetMsrIndexList, &count, out int errno) < 0 && errno != Errno.E2BIG)
            throw new OsException("ioctl KVM_GET_MSR_INDEX_LIST", errno);
        var buffer = new uint[count + 1];
        fixed (uint* p = buffer)
        {
            p[0] = count;
            Ioctl.Call(fd, KvmIoctls.GetMsrIndexList, p, "KVM_GET_MSR_INDEX_LIST");
            return new ReadOnlySpan<uint>(p + 1, (int)p[0]).ToArray();
        }
    }

    public void Dispose() => fd.Dispose();
}
