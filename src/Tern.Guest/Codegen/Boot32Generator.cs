using Iced.Intel;
using Tern.Memory;
using static Iced.Intel.AssemblerRegisters;
using PB = Tern.Guest.ParameterBlock;

namespace Tern.Guest.Codegen;

/// <summary>
/// The 32-bit multiboot entry: protected mode, paging off, EAX = 0x2BADB002, EBX = multiboot info, ESP undefined.
/// Uses no stack. If the multiboot info says the machine has less RAM than the image was built for, prints the
/// parameter block's boot message on COM1 and halts. Otherwise loads Tern's GDT, enables PAE, points CR3 at the
/// prebuilt page tables, sets EFER.LME, enables paging and far-jumps to the 64-bit continuation.
/// All of this runs at CPL0 (emulated on kvm_pvm): a few dozen instructions, once.
/// </summary>
internal static class Boot32Generator
{
    public static byte[] Assemble(GuestLayout layout, ulong at, GuestAddress boot64)
    {
        var a = new Assembler(32);
        var tables = a.CreateLabel();
        var halt = a.CreateLabel();
        var next = a.CreateLabel();
        var poll = a.CreateLabel();
        var ready = a.CreateLabel();
        ulong needKib = layout.WorkingSet.End.Value / 1024;
        ulong parameters = layout.ParameterBlock.Value;

        a.cli();
        a.cmp(eax, CpuConstants.MultibootBootloaderMagic);
        a.jne(tables);
        a.test(__dword_ptr[ebx], 1); // mem_lower/mem_upper valid?
        a.jz(tables);
        a.mov(ecx, __dword_ptr[ebx + 8]); // mem_upper: KiB above 1 MiB
        a.add(ecx, 1024);
        a.cmp(ecx, (uint)needKib);
        a.jae(tables);

        a.mov(esi, (uint)(parameters + PB.BootMessage));
        a.mov(ecx, __dword_ptr[(uint)(parameters + PB.BootMessageLength)]);
        a.Label(ref next);
        a.mov(edi, 100);
        a.Label(ref poll);
        a.mov(edx, (uint)GuestPorts.SerialLineStatus);
        a.@in(al, dx);
        a.test(al, GuestPorts.LineStatusTransmitEmpty);
        a.jnz(ready);
        a.dec(edi);
        a.jnz(poll);
        a.Label(ref ready);
        a.mov(edx, (uint)GuestPorts.SerialData);
        a.mov(al, __byte_ptr[esi]);
        a.@out(dx, al);
        a.inc(esi);
        a.dec(ecx);
        a.jnz(next);
        a.Label(ref halt);
        a.hlt();
        a.jmp(halt);

        a.Label(ref tables);
        a.mov(eax, (uint)SystemTables.GdtrAddress(layout).Value);
        a.lgdt(__[eax]);
        a.mov(eax, (uint)CpuConstants.Cr4);
        a.mov(cr4, eax);
        a.mov(eax, (uint)layout.Pml4.Value);
        a.mov(cr3, eax);
        a.mov(ecx, CpuConstants.EferMsr);
        a.rdmsr();
        a.or(eax, CpuConstants.EferLme);
        a.wrmsr();
        a.mov(eax, (uint)CpuConstants.Cr0);
        a.mov(cr0, eax);
        a.jmp(CpuConstants.KernelCode, (uint)boot64.Value);

        var writer = new ByteCodeWriter();
        a.Assemble(writer, at);
        return writer.ToArray();
    }
}
