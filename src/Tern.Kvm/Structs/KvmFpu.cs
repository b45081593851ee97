using System.Runtime.InteropServices;

namespace Tern.Kvm.Structs;

/// <summary><c>struct kvm_fpu</c> (416 bytes): legacy FPU/SSE state, used only where XSAVE is missing.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KvmFpu
{
    public fixed byte Fpr[128];
    public ushort Fcw, Fsw;
    public byte Ftwx, Pad1;
    public ushort LastOpcode;
    public ulong LastIp, LastDp;
    public fixed byte Xmm[256];
    public uint Mxcsr, Pad2;
}
