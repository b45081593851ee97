using System.Runtime.InteropServices;
using Tern.Kvm.Structs;
using Tern.Os;

namespace Tern.Kvm;

/// <summary>
/// A KVM vCPU file descriptor and its shared <c>kvm_run</c> page. Run it and read or write its state only from the
/// thread that owns it: KVM blocks vCPU ioctls from other threads while the vCPU is inside <c>KVM_RUN</c>.
/// The exceptions are <see cref="RequestImmediateExit"/> (a store into the shared page) and a signal.
/// </summary>
public sealed unsafe partial class KvmVcpu : IDisposable
{
    private readonly FileDescriptor fd;
    private readonly MemoryMapping runArea;
    private readonly KvmRunHeader* run;

    internal KvmVcpu(KvmVm vm, int id, FileDescriptor fd)
    {
        Vm = vm;
        Id = id;
        this.fd = fd;
        runArea = MemoryMapping.MapShared(fd, (ulong)vm.System.VcpuMmapSize);
        // The mapping is at least one page and starts with struct kvm_run; it lives as long as this object.
        run = (KvmRunHeader*)runArea.Address;
    }

    public KvmVm Vm { get; }
    public int Id { get; }
    internal FileDescriptor Handle => fd;

    /// <summary>
    /// Asks the vCPU to leave (or not enter) guest mode: a volatile store into <c>kvm_run.immediate_exit</c>. Safe from any
    /// thread. A vCPU already inside the guest also needs a signal (<see cref="NativeThread.Signal"/>) to notice it.
    /// </summary>
    public void RequestImmediateExit(bool exit) => Volatile.Write(ref run->ImmediateExit, exit ? (byte)1 : (byte)0);

    /// <summary>
    /// Enters the guest until the next exit. Returns <see cref="VcpuExit.Kicked"/> on EINTR; throws for other errors.
    /// </summary>
    public VcpuExit Run()
    {
        int rc = Ioctl.TryCallRaw(fd.Number, KvmIoctls.Run, 0, out int errno);
        if (rc < 0)
        {
            if (errno is Errno.EINTR or Errno.EAGAIN) return VcpuExit.Kicked;
            throw new OsException($"ioctl KVM_RUN (vCPU {Id})", errno);
        }
        return DecodeExit();
    }

    private VcpuExit DecodeExit()
    {
        byte* b = (byte*)run;
        var reason = (KvmExitReason)Volatile.Read(ref run->ExitReason);
        return reason switch
        {
            KvmExitReason.Io => new VcpuExit(reason,
                Port: *(ushort*)(b + KvmRunOffsets.IoPort),
                IsOut: b[KvmRunOffsets.IoDirection] == 1,
                Size: b[KvmRunOffsets.IoSize],
                Count: *(uint*)(b + KvmRunOffsets.IoCount),
                Address: *(ulong*)(b + KvmRunOffsets.IoDataOffset)),
            KvmExitReason.Mmio => new VcpuExit(reason,
                Address: *(ulong*)(b + KvmRunOffsets.MmioPhysAddr),
                Size: (byte)*(uint*)(b + KvmRunOffsets.MmioLen),
                IsOut: b[KvmRunOffsets.MmioIsWrite] != 0),
            KvmExitReason.FailEntry => new VcpuExit(reason,
                Address: *(ulong*)(b + KvmRunOffsets.FailEntryReason),
                Detail: *(uint*)(b + KvmRunOffsets.FailEntryCpu)),
            KvmExitReason.InternalError => new VcpuExit(reason,
                Detail: *(uint*)(b + KvmRunOffsets.InternalSuberror),
                Detail2: *(uint*)(b + KvmRunOffsets.InternalNdata) > 0 ? *(ulong*)(b + KvmRunOffsets.InternalData) : 0),
            KvmExitReason.SystemEvent => new VcpuExit(reason, Detail: *(uint*)(b + KvmRunOffsets.SystemEventType)),
            KvmExitReason.Exception => new VcpuExit(reason,
                Detail: *(uint*)(b + KvmRunOffsets.ExException),
                Detail2: *(uint*)(b + KvmRunOffsets.ExErrorCode)),
            _ => new VcpuExit(reason),
        };
    }

    /// <summary>
    /// The data bytes of the current port-I/O exit (<c>size * count</c> bytes at <c>data_offset</c> in the run area):
    /// read them for an OUT, fill them for an IN before the next <see cref="Run"/>.
    /// </summary>
    public Span<byte> IoData(in VcpuExit exit)
    {
        ulong length = (ulong)exit.Size * exit.Count;
        return runArea.GetSpan(exit.Address, checked((int)length));
    }

    /// <summary>The 8 data bytes of the current MMIO exit: read them for a write, fill them for a read.</summary>
    public Span<byte> MmioData(in VcpuExit exit) =>
        runArea.GetSpan(KvmRunOffsets.MmioData, Math.Min((int)exit.Size, 8));

    /// <summary>Extra bytes of the internal-error exit, for error messages.</summary>
    public ulong[] InternalErrorData()
    {
        byte* b = (byte*)run;
        uint n = Math.Min(*(uint*)(b + KvmRunOffsets.InternalNdata), 16u);
        return new ReadOnlySpan<ulong>(b + KvmRunOffsets.InternalData, (int)n).ToArray();
    }

    public void Dispose()
    {
        runArea.Dispose();
        fd.Dispose();
    }
}
