using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using CP = Tern.Guest.ControlPage;
using PB = Tern.Guest.ParameterBlock;

namespace Tern.Guest.Codegen;

/// <summary>The CPL0 code: exception reporting, and the idle workload's entry and timer.</summary>
internal sealed partial class GuestCodeGenerator
{
    /// <summary>
    /// One stub per exception vector (pushing a zero error code where the CPU pushes none, then the vector), and a
    /// common handler. The IDT sends every exception to IST1, the vCPU's kernel stack page, whose first qword holds
    /// the control page address. The handler records vector, error code, the interrupted rip/cs/rflags/rsp/ss and
    /// CR2 in the control page, sets the state to panicked, reports the vector on the panic port and halts for good.
    /// </summary>
    private void EmitExceptionHandlers()
    {
        var common = _a.CreateLabel("panic");
        for (int vector = 0; vector < 32; vector++)
        {
            _exceptions[vector] = _a.CreateLabel($"exception_{vector}");
            _a.Label(ref _exceptions[vector]);
            if (vector == CpuConstants.InvalidOpcodeVector && _anyFill)
            {
                // fill's rest site: a #UD there (rip is at [rsp], #UD pushes no error code) is the way into the rest.
                var notRest = _a.CreateLabel();
                _a.push(rax);
                _a.lea(rax, __[_restSite]);
                _a.cmp(__qword_ptr[rsp + 8], rax);
                _a.pop(rax);
                _a.jne(notRest);
                _a.jmp(_restEntry);
                _a.Label(ref notRest);
            }
            if (!CpuPushesErrorCode(vector)) _a.push(0);
            _a.push(vector);
            _a.jmp(common);
        }

        var halt = _a.CreateLabel();
        _a.Label(ref common);
        _a.mov(rax, rsp);
        _a.and(rax, -4096);
        _a.mov(rax, __qword_ptr[rax]);
        (int From, int To)[] frame =
        [
            (0, CP.PanicVector), (8, CP.PanicErrorCode), (16, CP.PanicRip), (24, CP.PanicCs),
            (32, CP.PanicRflags), (40, CP.PanicRsp), (48, CP.PanicSs),
        ];
        foreach (var (from, to) in frame)
        {
            _a.mov(rcx, __qword_ptr[rsp + from]);
            _a.mov(__qword_ptr[rax + to], rcx);
        }
        _a.mov(rcx, cr2);
        _a.mov(__qword_ptr[rax + CP.PanicCr2], rcx);
        _a.mov(__qword_ptr[rax + CP.State], (int)VcpuRunState.Panicked);
        _a.mov(eax, __dword_ptr[rsp]);
        _a.mov(edx, (uint)GuestPorts.Panic);
        _a.@out(dx, al);
        _a.Label(ref halt);
        _a.cli();
        _a.hlt();
        _a.jmp(halt);
    }

    internal static bool CpuPushesErrorCode(int vector) => vector is 8 or 10 or 11 or 12 or 13 or 14 or 17 or 21 or 29 or 30;

    /// <summary>
    /// idle's timer interrupt (vector 0x20, ~1 kHz): count the tick, heartbeat, EOI. r12 = control page (set by
    /// the idle entry, untouched by its hlt loop). The spurious vector just returns.
    /// </summary>
    private void EmitTimerHandlers()
    {
        _a.Label(ref _timer);
        EmitTimerTick(countTick: true);

        _a.Label(ref _spurious);
        _a.iretq();
    }

    /// <summary>fill's rest timer (vector 0x21, ~1 kHz): heartbeat and EOI; the counter stays at the writes done.</summary>
    private void EmitRestTimerHandler()
    {
        _a.Label(ref _restTimer);
        EmitTimerTick(countTick: false);
    }

    /// <summary>
    /// The body of both timer handlers: count the tick (idle only), heartbeat, EOI, return. r12 = control page.
    /// </summary>
    private void EmitTimerTick(bool countTick)
    {
        _a.push(rax);
        _a.push(rcx);
        _a.push(rdx);
        if (countTick) _a.inc(__qword_ptr[r12 + CP.Counter]);
        _a.inc(__qword_ptr[r12 + CP.Heartbeats]);
        _a.mov(eax, __dword_ptr[r12 + CP.VcpuIndex]);
        _a.mov(edx, (uint)GuestPorts.Heartbeat);
        _a.@out(dx, al);
        _a.mov(ecx, CpuConstants.X2ApicEoi);
        _a.xor(eax, eax);
        _a.xor(edx, edx);
        _a.wrmsr();
        _a.pop(rdx);
        _a.pop(rcx);
        _a.pop(rax);
        _a.iretq();
    }

    /// <summary>
    /// idle's entry at CPL0 (same registers as the CPL3 entry). Banner on vCPU 0, masks the 8259 PICs and the
    /// LAPIC's LINT0/LINT1/error entries (firmware may have left legacy interrupts routed to vectors that collide
    /// with exceptions), switches the LAPIC to x2APIC mode, starts a periodic timer on vector 0x20 and halts in a
    /// loop with interrupts on. Every instruction here is emulated on kvm_pvm; the steady state is a dozen per tick.
    /// </summary>
    private void EmitIdleEntry()
    {
        var noBanner = _a.CreateLabel();
        _a.Label(ref _idleEntry);
        _a.mov(r12, rsi);
        _a.mov(r15, rdx);
        _a.test(edi, edi);
        _a.jnz(noBanner);
        _a.lea(rsi, __[r15 + PB.Banner]);
        _a.mov(rcx, __qword_ptr[r15 + PB.BannerLength]);
        _a.call(_serialWrite);
        _a.Label(ref noBanner);
        _a.mov(__qword_ptr[r12 + CP.State], (int)VcpuRunState.Running);

        EmitStartTimerAndHalt(CpuConstants.TimerVector);
    }

    /// <summary>
    /// fill's rest, entered at CPL0 from the #UD of its rest site once its pass is done, with r12 = control page.
    /// Starts the same timer as idle, on the rest timer vector (whose handler only heartbeats), and halts for good:
    /// from here on the vCPU writes nothing but its control page and kernel stack.
    /// </summary>
    private void EmitRestEntry()
    {
        _a.Label(ref _restEntry);
        _a.mov(r15, _layout.ParameterBlock.Value);
        EmitStartTimerAndHalt(CpuConstants.RestTimerVector);
    }

    /// <summary>
    /// Masks the 8259 PICs and the LAPIC's LINT0/LINT1/error entries (firmware may have left legacy interrupts routed
    /// to vectors that collide with exceptions), switches the LAPIC to x2APIC mode, starts a periodic timer on
    /// <paramref name="vector"/> and halts in a loop with interrupts on. r15 = parameter block.
    /// </summary>
    private void EmitStartTimerAndHalt(int vector)
    {
        var sleep = _a.CreateLabel();
        _a.mov(al, 0xFF);
        _a.@out(0x21, al);
        _a.@out(0xA1, al);

        _a.mov(ecx, CpuConstants.X2ApicBaseMsr);
        _a.rdmsr();
        _a.or(eax, CpuConstants.X2ApicEnableBits);
        _a.wrmsr();
        _a.xor(edx, edx);
        WriteMsr(CpuConstants.X2ApicLvtLint0, CpuConstants.LvtMasked);
        WriteMsr(CpuConstants.X2ApicLvtLint1, CpuConstants.LvtMasked);
        WriteMsr(CpuConstants.X2ApicLvtError, CpuConstants.LvtMasked);
        WriteMsr(CpuConstants.X2ApicSpurious, 0x100 | CpuConstants.SpuriousVector);
        WriteMsr(CpuConstants.X2ApicDivide, CpuConstants.DivideBy1);
        WriteMsr(CpuConstants.X2ApicLvtTimer, CpuConstants.LvtPeriodic | (uint)vector);
        _a.mov(ecx, CpuConstants.X2ApicInitialCount);
        _a.mov(eax, __dword_ptr[r15 + PB.ApicTimerInitialCount]);
        _a.wrmsr();
        _a.sti();
        _a.Label(ref sleep);
        _a.hlt();
        _a.jmp(sleep);
    }

    /// <summary>wrmsr with edx already zero.</summary>
    private void WriteMsr(uint msr, uint low)
    {
        _a.mov(ecx, msr);
        _a.mov(eax, low);
        _a.wrmsr();
    }
}
