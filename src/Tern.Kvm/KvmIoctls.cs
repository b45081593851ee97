using Tern.Os;
using static Tern.Os.Ioctl;

namespace Tern.Kvm;

/// <summary>
/// Every KVM ioctl request number Tern uses, built like <c>linux/kvm.h</c> builds them (KVMIO = 0xAE).
/// The layout tests compare each one with the value the C header produces.
/// </summary>
public static class KvmIoctls
{
    private const uint Kvmio = 0xAE;

    private static nuint Io(uint nr) => Encode(None, Kvmio, nr, 0);
    private static nuint Ior(uint nr, int size) => Encode(Read, Kvmio, nr, (uint)size);
    private static nuint Iow(uint nr, int size) => Encode(Write, Kvmio, nr, (uint)size);
    private static nuint Iowr(uint nr, int size) => Encode(Read | Write, Kvmio, nr, (uint)size);

    // System ioctls (on /dev/kvm)
    public static readonly nuint GetApiVersion = Io(0x00);
    public static readonly nuint CreateVm = Io(0x01);
    public static readonly nuint GetMsrIndexList = Iowr(0x02, 4);
    public static readonly nuint CheckExtension = Io(0x03);
    public static readonly nuint GetVcpuMmapSize = Io(0x04);
    public static readonly nuint GetSupportedCpuid = Iowr(0x05, 8);

    // VM ioctls
    public static readonly nuint CreateVcpu = Io(0x41);
    public static readonly nuint GetDirtyLog = Iow(0x42, 16);
    public static readonly nuint SetUserMemoryRegion = Iow(0x46, 32);
    public static readonly nuint SetTssAddr = Io(0x47);
    public static readonly nuint SetIdentityMapAddr = Iow(0x48, 8);
    public static readonly nuint CreateIrqchip = Io(0x60);
    public static readonly nuint GetIrqchip = Iowr(0x62, 520);
    public static readonly nuint SetIrqchip = Ior(0x63, 520);
    public static readonly nuint CreatePit2 = Iow(0x77, 64);
    public static readonly nuint SetClock = Iow(0x7b, 48);
    public static readonly nuint GetClock = Ior(0x7c, 48);
    public static readonly nuint GetPit2 = Ior(0x9f, 112);
    public static readonly nuint SetPit2 = Iow(0xa0, 112);
    public static readonly nuint EnableCap = Iow(0xa3, 104);
    public static readonly nuint ClearDirtyLog = Iowr(0xc0, 24);
    public static readonly nuint ResetDirtyRings = Io(0xc7);

    // vCPU ioctls
    public static readonly nuint Run = Io(0x80);
    public static readonly nuint GetRegs = Ior(0x81, 144);
    public static readonly nuint SetRegs = Iow(0x82, 144);
    public static readonly nuint GetSregs = Ior(0x83, 312);
    public static readonly nuint SetSregs = Iow(0x84, 312);
    public static readonly nuint GetMsrs = Iowr(0x88, 8);
    public static readonly nuint SetMsrs = Iow(0x89, 8);
    public static readonly nuint GetFpu = Ior(0x8c, 416);
    public static readonly nuint SetFpu = Iow(0x8d, 416);
    public static readonly nuint GetLapic = Ior(0x8e, 1024);
    public static readonly nuint SetLapic = Iow(0x8f, 1024);
    public static readonly nuint SetCpuid2 = Iow(0x90, 8);
    public static readonly nuint GetMpState = Ior(0x98, 4);
    public static readonly nuint SetMpState = Iow(0x99, 4);
    public static readonly nuint GetVcpuEvents = Ior(0x9f, 64);
    public static readonly nuint SetVcpuEvents = Iow(0xa0, 64);
    public static readonly nuint GetDebugRegs = Ior(0xa1, 128);
    public static readonly nuint SetDebugRegs = Iow(0xa2, 128);
    public static readonly nuint SetTscKhz = Io(0xa2);
    public static readonly nuint GetTscKhz = Io(0xa3);
    public static readonly nuint GetXsave = Ior(0xa4, 4096);
    public static readonly nuint SetXsave = Iow(0xa5, 4096);
    public static readonly nuint GetXcrs = Ior(0xa6, 392);
    public static readonly nuint SetXcrs = Iow(0xa7, 392);
    public static readonly nuint KvmclockCtrl = Io(0xad);
    public static readonly nuint GetXsave2 = Ior(0xcf, 4096);
}
