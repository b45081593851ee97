using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using CP = Tern.Guest.ControlPage;
using PB = Tern.Guest.ParameterBlock;

namespace Tern.Guest.Codegen;

/// <summary>The CPL3 runtime shared by the memory workloads: entry, heartbeat and rate cap.</summary>
internal sealed partial class GuestCodeGenerator
{
    /// <summary>
    /// The common part of the CPL3 entries (rdi = vCPU index, rsi = control page, rdx = parameter block, r14 = the
    /// workload's loop, set by its entry stub). Prints the banner on vCPU 0, marks the vCPU running, derives its
    /// timing from the parameter block and its control page (rate cap and chunk size are per vCPU), emits the first
    /// heartbeat and jumps to the workload's loop with rbx = 0 (the write counter).
    /// From here on r12 holds the control page.
    /// </summary>
    private void EmitUserEntry()
    {
        var noBanner = _a.CreateLabel();
        var rateDone = _a.CreateLabel();
        _a.Label(ref _userEntry);
        _a.mov(r12, rsi);
        _a.mov(r15, rdx);
        _a.test(edi, edi);
        _a.jnz(noBanner);
        _a.lea(rsi, __[r15 + PB.Banner]);
        _a.mov(rcx, __qword_ptr[r15 + PB.BannerLength]);
        _a.call(_serialWrite);
        _a.Label(ref noBanner);
        _a.mov(__qword_ptr[r12 + CP.State], (int)VcpuRunState.Running);

        // One heartbeat per millisecond: the period is the TSC frequency in kHz.
        _a.mov(rax, __qword_ptr[r15 + PB.TscKhz]);
        _a.mov(__qword_ptr[r12 + CP.HeartbeatPeriodTicks], rax);

        // Rate cap: a chunk of writes may start only every chunk * tscKhz * 1000 / writesPerSecond ticks.
        _a.xor(ecx, ecx);
        _a.mov(rsi, __qword_ptr[r12 + CP.RateWritesPerSecond]);
        _a.test(rsi, rsi);
        _a.jz(rateDone);
        _a.mov(rax, __qword_ptr[r15 + PB.TscKhz]);
        _a.imul(rax, __qword_ptr[r12 + CP.ChunkWrites]);
        _a.imul(rax, rax, 1000);
        _a.xor(edx, edx);
        _a.div(rsi);
        _a.mov(rcx, rax);
        _a.test(rcx, rcx);
        _a.jnz(rateDone);
        _a.mov(ecx, 1);
        _a.Label(ref rateDone);
        _a.mov(__qword_ptr[r12 + CP.RateTicksPerChunk], rcx);

        ReadTsc();
        _a.mov(__qword_ptr[r12 + CP.RateDeadlineTsc], rax);
        _a.call(_heartbeatCheck); // NextHeartbeatTsc is 0: the first heartbeat goes out now
        _a.xor(ebx, ebx);
        _a.jmp(r14);
    }

    /// <summary>rax = TSC (clobbers rdx).</summary>
    private void ReadTsc()
    {
        _a.rdtsc();
        _a.shl(rdx, 32);
        _a.or(rax, rdx);
    }

    /// <summary>
    /// Heartbeat check, rax = now (TSC). If the next heartbeat is due, emit it (8-bit out of the vCPU index to the
    /// heartbeat port) and schedule the next one a period from now. If the TSC went backwards (a migration to a host
    /// whose TSC is behind), re-arm instead of waiting for the old deadline. Preserves rax; clobbers rcx, rdx.
    /// </summary>
    private void EmitHeartbeatCheck()
    {
        var emit = _a.CreateLabel();
        var done = _a.CreateLabel();
        _a.Label(ref _heartbeatCheck);
        _a.mov(rcx, __qword_ptr[r12 + CP.NextHeartbeatTsc]);
        _a.cmp(rax, rcx);
        _a.jae(emit);
        _a.sub(rcx, rax);
        _a.cmp(rcx, __qword_ptr[r12 + CP.HeartbeatPeriodTicks]);
        _a.jbe(done);
        _a.mov(rcx, __qword_ptr[r12 + CP.HeartbeatPeriodTicks]); // re-arm after the TSC stepped back
        _a.add(rcx, rax);
        _a.mov(__qword_ptr[r12 + CP.NextHeartbeatTsc], rcx);
        _a.ret();
        _a.Label(ref emit);
        _a.mov(rcx, __qword_ptr[r12 + CP.HeartbeatPeriodTicks]);
        _a.add(rcx, rax);
        _a.mov(__qword_ptr[r12 + CP.NextHeartbeatTsc], rcx);
        _a.inc(__qword_ptr[r12 + CP.Heartbeats]);
        _a.mov(rcx, rax);
        _a.mov(eax, __dword_ptr[r12 + CP.VcpuIndex]);
        _a.mov(edx, (uint)GuestPorts.Heartbeat);
        _a.@out(dx, al);
        _a.mov(rax, rcx);
        _a.Label(ref done);
        _a.ret();
    }

    /// <summary>
    /// Called after every chunk of writes. Checks the heartbeat; under a rate cap, advances the chunk deadline
    /// (never more than a millisecond of credit after a pause, and re-based if the TSC stepped back) and spins with
    /// <c>pause</c>, still heartbeating, until the deadline. Clobbers rax, rcx, rdx.
    /// </summary>
    private void EmitTick()
    {
        var noFloor = _a.CreateLabel();
        var keep = _a.CreateLabel();
        var spin = _a.CreateLabel();
        var done = _a.CreateLabel();
        _a.Label(ref _tick);
        ReadTsc();
        _a.call(_heartbeatCheck);
        _a.mov(rcx, __qword_ptr[r12 + CP.RateTicksPerChunk]);
        _a.test(rcx, rcx);
        _a.jz(done);
        // deadline = max(deadline, now - 1 ms) + ticksPerChunk
        _a.mov(rdx, rax);
        _a.sub(rdx, __qword_ptr[r12 + CP.HeartbeatPeriodTicks]);
        _a.jae(noFloor);
        _a.xor(edx, edx);
        _a.Label(ref noFloor);
        _a.cmp(rdx, __qword_ptr[r12 + CP.RateDeadlineTsc]);
        _a.jb(keep);
        _a.mov(__qword_ptr[r12 + CP.RateDeadlineTsc], rdx);
        _a.Label(ref keep);
        _a.add(__qword_ptr[r12 + CP.RateDeadlineTsc], rcx);
        // If the deadline is more than a chunk and a millisecond ahead, the TSC stepped back: re-base on now.
        _a.lea(rdx, __[rax + rcx]);
        _a.add(rdx, __qword_ptr[r12 + CP.HeartbeatPeriodTicks]);
        _a.cmp(__qword_ptr[r12 + CP.RateDeadlineTsc], rdx);
        _a.jbe(spin);
        _a.lea(rdx, __[rax + rcx]);
        _a.mov(__qword_ptr[r12 + CP.RateDeadlineTsc], rdx);
        _a.Label(ref spin);
        _a.cmp(rax, __qword_ptr[r12 + CP.RateDeadlineTsc]);
        _a.jae(done);
        _a.pause();
        ReadTsc();
        _a.call(_heartbeatCheck);
        _a.jmp(spin);
        _a.Label(ref done);
        _a.ret();
    }
}
