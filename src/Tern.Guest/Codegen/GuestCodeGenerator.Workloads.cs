using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using CP = Tern.Guest.ControlPage;

namespace Tern.Guest.Codegen;

/// <summary>
/// The per-write loops. Common to all: rbx = write index i (the counter), r12 = control page, r15 = writes left
/// in the chunk. Each write stores its data first and then the new counter (i + 1) into the control page, so a
/// vCPU stopped between the two leaves exactly one write (index = stored counter) in memory but uncounted.
/// Every <see cref="ParameterBlock.ChunkWrites"/> writes the loop calls tick (heartbeat, rate cap).
/// </summary>
internal sealed partial class GuestCodeGenerator
{
    private void EmitWorkloadLoop()
    {
        switch (_layout.Workload.Kind)
        {
            case WorkloadKind.Stride: EmitStride(); break;
            case WorkloadKind.Seq: EmitSeq(); break;
            case WorkloadKind.Random: EmitRandom(hotCold: false); break;
            case WorkloadKind.HotCold: EmitRandom(hotCold: true); break;
            default: throw new InvalidOperationException($"{_layout.Workload.Kind} has no write loop");
        }
    }

    /// <summary>Ends a write: count it, and every chunk call tick. Jumps back to <paramref name="loop"/>.</summary>
    private void EmitCountAndChunk(Label loop)
    {
        _a.mov(__qword_ptr[r12 + CP.Counter], rbx);
        _a.dec(r15);
        _a.jnz(loop);
        _a.call(_tick);
        _a.mov(r15, __qword_ptr[r12 + CP.ChunkWrites]);
        _a.jmp(loop);
    }

    /// <summary>
    /// stride: <c>buf[k * 1024]++</c> for k = i mod (4 * slice pages), the XBZRLE thread's load generator.
    /// r8 = slice base, r9 = slice end, rdi = next byte to increment.
    /// </summary>
    private void EmitStride()
    {
        var loop = _a.CreateLabel();
        var next = _a.CreateLabel();
        _a.Label(ref _loopInit);
        _a.mov(r8, __qword_ptr[r12 + CP.RegionABase]);
        _a.mov(r9, __qword_ptr[r12 + CP.RegionAPages]);
        _a.shl(r9, 12);
        _a.add(r9, r8);
        _a.mov(rdi, r8);
        _a.mov(r15, __qword_ptr[r12 + CP.ChunkWrites]);
        _a.Label(ref loop);
        _a.inc(__byte_ptr[rdi]);
        _a.inc(rbx);
        _a.add(rdi, WorkloadSpec.StrideStepBytes);
        _a.cmp(rdi, r9);
        _a.jb(next);
        _a.mov(rdi, r8);
        _a.Label(ref next);
        EmitCountAndChunk(loop);
    }

    /// <summary>
    /// seq: write i goes to page (i mod P) of the slice, slot ((i / P) mod 8): each pass over the slice uses the
    /// next slot. r8 = slice base, r9 = slice end, rdi = page, r11 = slot offset, r10 = value tag.
    /// </summary>
    private void EmitSeq()
    {
        var loop = _a.CreateLabel();
        var next = _a.CreateLabel();
        _a.Label(ref _loopInit);
        _a.mov(r8, __qword_ptr[r12 + CP.RegionABase]);
        _a.mov(r9, __qword_ptr[r12 + CP.RegionAPages]);
        _a.shl(r9, 12);
        _a.add(r9, r8);
        _a.mov(r10, __qword_ptr[r12 + CP.ValueTag]);
        _a.mov(rdi, r8);
        _a.xor(r11d, r11d);
        _a.mov(r15, __qword_ptr[r12 + CP.ChunkWrites]);
        _a.Label(ref loop);
        _a.inc(rbx);
        _a.mov(rax, rbx);
        _a.xor(rax, r10);
        _a.mov(__qword_ptr[rdi + r11], rax);
        _a.add(rdi, 4096);
        _a.cmp(rdi, r9);
        _a.jb(next);
        _a.mov(rdi, r8);
        _a.add(r11d, WorkloadPrng.SlotStride);
        _a.and(r11d, (WorkloadPrng.SlotsPerPage - 1) * WorkloadPrng.SlotStride);
        _a.Label(ref next);
        EmitCountAndChunk(loop);
    }

    /// <summary>
    /// random and hotcold: h = splitmix64_finalizer(key + (i + 1) * golden); the page is a multiply-high of h by the
    /// region's page count, the slot (h >> 32) &amp; 7. hotcold picks region A (hot) when (u32)h &lt; threshold.
    /// r13 = key + (i + 1) * golden (advanced each write), r14 = golden, rbp/r11 = the finalizer's multipliers,
    /// r8/r9 = region A base/pages, rdi = region B base, r10 = value tag, rsi = h.
    /// </summary>
    private void EmitRandom(bool hotCold)
    {
        var loop = _a.CreateLabel();
        var cold = _a.CreateLabel();
        var store = _a.CreateLabel();
        _a.Label(ref _loopInit);
        _a.mov(r8, __qword_ptr[r12 + CP.RegionABase]);
        _a.mov(r9, __qword_ptr[r12 + CP.RegionAPages]);
        _a.mov(rdi, __qword_ptr[r12 + CP.RegionBBase]);
        _a.mov(r10, __qword_ptr[r12 + CP.ValueTag]);
        _a.mov(r13, __qword_ptr[r12 + CP.PrngKey]);
        _a.mov(r14, WorkloadPrng.Golden);
        _a.mov(rbp, WorkloadPrng.Mix1);
        _a.mov(r11, WorkloadPrng.Mix2);
        _a.mov(r15, __qword_ptr[r12 + CP.ChunkWrites]);
        _a.Label(ref loop);
        _a.add(r13, r14);
        _a.mov(rax, r13);
        _a.mov(rdx, rax);
        _a.shr(rdx, 30);
        _a.xor(rax, rdx);
        _a.imul(rax, rbp);
        _a.mov(rdx, rax);
        _a.shr(rdx, 27);
        _a.xor(rax, rdx);
        _a.imul(rax, r11);
        _a.mov(rdx, rax);
        _a.shr(rdx, 31);
        _a.xor(rax, rdx);
        _a.mov(rsi, rax);
        if (hotCold)
        {
            _a.mov(ecx, eax);
            _a.cmp(rcx, __qword_ptr[r12 + CP.HotThreshold]);
            _a.jae(cold);
            _a.mul(r9);
            _a.shl(rdx, 12);
            _a.add(rdx, r8);
            _a.jmp(store);
            _a.Label(ref cold);
            _a.mul(__qword_ptr[r12 + CP.RegionBPages]);
            _a.shl(rdx, 12);
            _a.add(rdx, rdi);
            _a.Label(ref store);
        }
        else
        {
            _a.mul(r9);
            _a.shl(rdx, 12);
            _a.add(rdx, r8);
        }
        _a.mov(rcx, rsi);
        _a.shr(rcx, 32);
        _a.and(ecx, WorkloadPrng.SlotsPerPage - 1);
        _a.shl(ecx, 9);
        _a.inc(rbx);
        _a.mov(rax, rbx);
        _a.xor(rax, r10);
        _a.mov(__qword_ptr[rdx + rcx], rax);
        EmitCountAndChunk(loop);
    }
}
