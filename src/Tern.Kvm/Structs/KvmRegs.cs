using System.Runtime.InteropServices;

namespace Tern.Kvm.Structs;

/// <summary><c>struct kvm_regs</c> (144 bytes): the general-purpose registers.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11, R12, R13, R14, R15;
    public ulong Rip, Rflags;
}
