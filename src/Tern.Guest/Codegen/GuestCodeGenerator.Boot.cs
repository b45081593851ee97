using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Tern.Guest.Codegen;

/// <summary>The 64-bit half of the multiboot entry.</summary>
internal sealed partial class GuestCodeGenerator
{
    /// <summary>
    /// Reached by a far jump from the 32-bit entry with paging on and the GDT loaded. Loads the data segments,
    /// IDT and vCPU 0's TSS, then produces exactly the state a direct entry gives vCPU 0: for the memory workloads
    /// an iretq to CPL3, for idle a jump at CPL0; rdi = 0, rsi = control page, rdx = parameter block, every other
    /// general register zero.
    /// </summary>
    private void EmitBoot64(bool idle, Label entry)
    {
        var v0 = _layout.Vcpus[0];
        _a.Label(ref _boot64);
        _a.mov(eax, (uint)CpuConstants.KernelData);
        _a.mov(ds, ax);
        _a.mov(es, ax);
        _a.mov(ss, ax);
        _a.mov(fs, ax);
        _a.mov(gs, ax);
        _a.mov(esp, (uint)v0.KernelStackTop.Value);
        _a.mov(eax, (uint)SystemTables.IdtrAddress(_layout).Value);
        _a.lidt(__[rax]);
        _a.mov(eax, (uint)v0.TssSelector);
        _a.ltr(ax);
        if (idle)
        {
            _a.mov(esp, (uint)v0.StackTop.Value);
            _a.push((int)CpuConstants.KernelRflags);
            _a.popfq();
        }
        else
        {
            _a.mov(eax, (uint)CpuConstants.UserData);
            _a.mov(ds, ax);
            _a.mov(es, ax);
            _a.mov(fs, ax);
            _a.mov(gs, ax);
            _a.push((int)CpuConstants.UserData);
            _a.push((int)v0.StackTop.Value);
            _a.push((int)CpuConstants.UserRflags);
            _a.push((int)CpuConstants.UserCode);
            _a.lea(rax, __[entry]);
            _a.push(rax);
        }
        foreach (var r in new[] { eax, ebx, ecx, ebp, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d })
            _a.xor(r, r);
        _a.xor(edi, edi);
        _a.mov(esi, (uint)v0.ControlPage.Value);
        _a.mov(edx, (uint)_layout.ParameterBlock.Value);
        if (idle) _a.jmp(entry);
        else _a.iretq();
    }
}
