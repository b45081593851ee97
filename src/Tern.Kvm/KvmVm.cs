using Tern.Kvm.Structs;
using Tern.Os;

namespace Tern.Kvm;

/// <summary>A KVM virtual machine file descriptor: memory slots, the in-kernel irqchip and PIT, dirty logging, the clock.</summary>
public sealed unsafe class KvmVm : IDisposable
{
    private readonly FileDescriptor fd;

    internal KvmVm(Kvm kvm, FileDescriptor fd)
    {
        System = kvm;
        this.fd = fd;
    }

    public Kvm System { get; }

    /// <summary>VM-level <c>KVM_CHECK_EXTENSION</c> (some capabilities differ per VM type).</summary>
    public int CheckExtension(KvmCapability capability) =>
        Ioctl.Call(fd, KvmIoctls.CheckExtension, (nuint)(uint)capability, $"KVM_CHECK_EXTENSION({capability}) on VM");

    public void EnableCap(KvmCapability capability, ulong arg0 = 0, ulong arg1 = 0)
    {
        var cap = new KvmEnableCap { Cap = (uint)capability };
        cap.Args[0] = arg0;
        cap.Args[1] = arg1;
        Ioctl.Call(fd, KvmIoctls.EnableCap, &cap, $"KVM_ENABLE_CAP({capability})");
    }

    public void SetUserMemoryRegion(uint slot, ulong guestPhysicalAddress, ulong size, nint hostAddress, bool logDirtyPages)
    {
        var region = new KvmUserspaceMemoryRegion
        {
            Slot = slot,
            Flags = logDirtyPages ? KvmUserspaceMemoryRegion.LogDirtyPages : 0,
            GuestPhysAddr = guestPhysicalAddress,
            MemorySize = size,
            UserspaceAddr = (ulong)hostAddress,
        };
        Ioctl.Call(fd, KvmIoctls.SetUserMemoryRegion, &region, $"KVM_SET_USER_MEMORY_REGION(slot {slot})");
    }

    /// <summary>Intel needs a 3-page TSS region below 4 GiB that does not overlap RAM; harmless elsewhere.</summary>
    public void SetTssAddress(ulong address) => Ioctl.Call(fd, KvmIoctls.SetTssAddr, (nuint)address, "KVM_SET_TSS_ADDR");

    public void SetIdentityMapAddress(ulong address) =>
        Ioctl.Call(fd, KvmIoctls.SetIdentityMapAddr, &address, "KVM_SET_IDENTITY_MAP_ADDR");

    public void CreateIrqchip() => Ioctl.Call(fd, KvmIoctls.CreateIrqchip, 0, "KVM_CREATE_IRQCHIP");

    public void CreatePit2()
    {
        var config = default(KvmPitConfig);
        Ioctl.Call(fd, KvmIoctls.CreatePit2, &config, "KVM_CREATE_PIT2");
    }

    public KvmVcpu CreateVcpu(int id)
    {
        int vcpuFd = Ioctl.Call(fd, KvmIoctls.CreateVcpu, (nuint)id, $"KVM_CREATE_VCPU({id})");
        return new KvmVcpu(this, id, FileDescriptor.FromReturnedNumber(vcpuFd));
    }

    /// <summary><c>KVM_GET_DIRTY_LOG</c> into <paramref name="bitmap"/> (one bit per page of the slot).</summary>
    public void GetDirtyLog(uint slot, Span<ulong> bitmap)
    {
        fixed (ulong* p = bitmap)
        {
            var log = new KvmDirtyLog { Slot = slot, DirtyBitmap = (nint)p };
            Ioctl.Call(fd, KvmIoctls.GetDirtyLog, &log, $"KVM_GET_DIRTY_LOG(slot {slot})");
        }
    }

    /// <summary>
    /// <c>KVM_CLEAR_DIRTY_LOG</c>: re-arms write protection for the pages whose bits are set in <paramref name="bitmap"/>,
    /// which covers <paramref name="pageCount"/> pages from <paramref name="firstPage"/> (a multiple of 64).
    /// </summary>
    public void ClearDirtyLog(uint slot, ulong firstPage, uint pageCount, ReadOnlySpan<ulong> bitmap)
    {
        if ((firstPage & 63) != 0) throw new ArgumentException("first page must be a multiple of 64", nameof(firstPage));
        fixed (ulong* p = bitmap)
        {
            var clear = new KvmClearDirtyLog { Slot = slot, FirstPage = firstPage, NumPages = pageCount, DirtyBitmap = (nint)p };
            Ioctl.Call(fd, KvmIoctls.ClearDirtyLog, &clear, $"KVM_CLEAR_DIRTY_LOG(slot {slot}, pages {firstPage}+{pageCount})");
        }
    }

    /// <summary><c>KVM_RESET_DIRTY_RINGS</c>: recycles harvested ring entries and re-protects their pages.</summary>
    public int ResetDirtyRings() => Ioctl.Call(fd, KvmIoctls.ResetDirtyRings, 0, "KVM_RESET_DIRTY_RINGS");

    public KvmClockData GetClock()
    {
        KvmClockData data;
        Ioctl.Call(fd, KvmIoctls.GetClock, &data, "KVM_GET_CLOCK");
        return data;
    }

    public void SetClock(KvmClockData data)
    {
        // Only the clock value is meaningful on another host; the flags would ask KVM to interpret host times.
        var clean = new KvmClockData { Clock = data.Clock };
        Ioctl.Call(fd, KvmIoctls.SetClock, &clean, "KVM_SET_CLOCK");
    }

    public KvmIrqchip GetIrqchip(uint chipId)
    {
        var chip = new KvmIrqchip { ChipId = chipId };
        Ioctl.Call(fd, KvmIoctls.GetIrqchip, &chip, $"KVM_GET_IRQCHIP({chipId})");
        return chip;
    }

    public void SetIrqchip(KvmIrqchip chip) => Ioctl.Call(fd, KvmIoctls.SetIrqchip, &chip, $"KVM_SET_IRQCHIP({chip.ChipId})");

    public KvmPitState2 GetPit2()
    {
        KvmPitState2 state;
        Ioctl.Call(fd, KvmIoctls.GetPit2, &state, "KVM_GET_PIT2");
        return state;
    }

    public void SetPit2(KvmPitState2 state) => Ioctl.Call(fd, KvmIoctls.SetPit2, &state, "KVM_SET_PIT2");

    public void Dispose() => fd.Dispose();
}
