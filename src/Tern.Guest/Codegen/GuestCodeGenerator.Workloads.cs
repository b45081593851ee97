using Iced.Intel;
using Tern.Memory;
using static Iced.Intel.AssemblerRegisters;
using CP = Tern.Guest.ControlPage;

namespace Tern.Guest.Codegen;

/// <summary>
/// The per-write loops, each behind a small entry stub. Common to all: rbx = write index i (the counter),
/// r12 = control page, r15 = writes left in the chunk. Each write stores its data first and then the new counter (i + 1) into the control page, so a
/// vCPU stopped between the two leaves exactly one write (index = stored counter) in memory but uncounted.
/// Every <see cref="ParameterBlock.ChunkWrites"/> writes the loop calls tick (heartbeat, rate cap).
/// </summary>
internal sealed partial class GuestCodeGenerator
{
    /// <summary>
    /// Emits a workload's entry stub (it points r14 at the loop and joins the common CPL3 entry) and its loop;
    /// returns the stub's label, where the vCPUs running this workload start.
    /// </summary>
    private Label EmitWorkload(WorkloadKey key)
    {
        var entry = _a.CreateLabel($"entry_{WorkloadSpec.NameOf(key.Kind)}_{key.Content}");
        var loopInit = _a.CreateLabel();
        _a.Label(ref entry);
        _a.lea(r14, __[loopInit]);
        _a.jmp(_userEntry);
        _a.Label(ref loopInit);
        bool mixed = key.Content == PageContent.Mixed;
        switch (key.Kind)
        {
            case WorkloadKind.Stride: EmitStride(mixed); break;
            case WorkloadKind.Compute: EmitCompute(); break;
            case WorkloadKind.Seq when mixed: EmitSeqMixed(once: false); break;
            case WorkloadKind.Seq: EmitSeq(once: false); break;
            case WorkloadKind.Fill when mixed: EmitSeqMixed(once: true); break;
            case WorkloadKind.Fill: EmitSeq(once: true); break;
            case WorkloadKind.Random: EmitRandom(hotCold: false, mixed); break;
            case WorkloadKind.HotCold: EmitRandom(hotCold: true, mixed); break;
            default: throw new InvalidOperationException($"{key.Kind} has no CPL3 loop");
        }
        return entry;
    }

    /// <summary>value = splitmix64_finalizer(value), with <paramref name="temp"/> clobbered and the two multipliers in registers.</summary>
    private void EmitFinalize(AssemblerRegister64 value, AssemblerRegister64 temp, AssemblerRegister64 mix1, AssemblerRegister64 mix2)
    {
        _a.mov(temp, value);
        _a.shr(temp, 30);
        _a.xor(value, temp);
        _a.imul(value, mix1);
        _a.mov(temp, value);
        _a.shr(temp, 27);
        _a.xor(value, temp);
        _a.imul(value, mix2);
        _a.mov(temp, value);
        _a.shr(temp, 31);
        _a.xor(value, temp);
    }

    /// <summary>r8 = the slice's base, r9 = its end (base + pages * 4 KiB): the bounds every sequential workload wraps at.</summary>
    private void EmitLoadSliceA()
    {
        _a.mov(r8, __qword_ptr[r12 + CP.RegionABase]);
        _a.mov(r9, __qword_ptr[r12 + CP.RegionAPages]);
        _a.shl(r9, 12);
        _a.add(r9, r8);
    }

    /// <summary>
    /// r13 = the PRNG key, r14 = golden, rbp/r11 = the finalizer's multipliers (<see cref="WorkloadPrng"/>): the
    /// registers every workload that draws from the PRNG keeps them in.
    /// </summary>
    private void EmitLoadPrng()
    {
        _a.mov(r13, __qword_ptr[r12 + CP.PrngKey]);
        _a.mov(r14, WorkloadPrng.Golden);
        _a.mov(rbp, WorkloadPrng.Mix1);
        _a.mov(r11, WorkloadPrng.Mix2);
    }

    /// <summary>
    /// compute: iteration i folds splitmix64_finalizer(key + (i + 1) * golden) into rsi (<see cref="ComputeWork"/>),
    /// all in registers; the only store is the counter. r13 = key + i * golden, r14 = golden, rbp/r11 = multipliers.
    /// </summary>
    private void EmitCompute()
    {
        var loop = _a.CreateLabel();
        EmitLoadPrng();
        _a.xor(esi, esi);
        _a.mov(r15, __qword_ptr[r12 + CP.ChunkWrites]);
        _a.Label(ref loop);
        _a.add(r13, r14);
        _a.mov(rax, r13);
        EmitFinalize(rax, rdx, rbp, r11);
        _a.xor(rsi, rax);
        _a.inc(rbx);
        EmitCountAndChunk(loop);
    }

    /// <summary>
    /// seq with content=mixed: write i fills page (i mod P) of the slice (<see cref="MixedPageContent"/>).
    /// r8 = slice base, r9 = slice end, rdi = page, r10 = value tag, r13 = key + i * golden, r14 = golden,
    /// rbp/r11 = the finalizer's multipliers. With <paramref name="once"/> (fill) the pass ends in the rest instead of wrapping.
    /// </summary>
    private void EmitSeqMixed(bool once)
    {
        var loop = _a.CreateLabel();
        var next = _a.CreateLabel();
        EmitLoadSliceA();
        _a.mov(r10, __qword_ptr[r12 + CP.ValueTag]);
        EmitLoadPrng();
        _a.mov(rdi, r8);
        _a.mov(r15, __qword_ptr[r12 + CP.ChunkWrites]);
        _a.Label(ref loop);
        _a.add(r13, r14);
        _a.mov(rsi, r13);
        EmitFinalize(rsi, rdx, rbp, r11);
        _a.inc(rbx);
        _a.mov(rax, rbx);
        _a.xor(rax, r10);
        _a.mov(rdx, rdi);
        _a.call(_fillMixed);
        _a.add(rdi, 4096);
        _a.cmp(rdi, r9);
        _a.jb(next);
        if (once) EmitCountAndRest();
        _a.mov(rdi, r8);
        _a.Label(ref next);
        EmitCountAndChunk(loop);
    }

    /// <summary>fill's end of pass: store the counter (the last write's), then go to the rest site.</summary>
    private void EmitCountAndRest()
    {
        _a.mov(__qword_ptr[r12 + CP.Counter], rbx);
        _a.jmp(_restSite);
    }

    /// <summary>
    /// The rest site: a ud2 whose #UD the CPL0 handler recognises by its rip and turns into fill's rest. An exception
    /// is how CPL3 gets to CPL0 here: kvm_pvm did not deliver <c>int 0x81</c> through a DPL 3 gate (measured: the
    /// vCPU carried on after the int), while exceptions reach their handlers on every path.
    /// </summary>
    private void EmitRestSite()
    {
        _a.Label(ref _restSite);
        _a.ud2();
    }

    /// <summary>
    /// Fills the page at rdx as one content=mixed write with hash rsi and value rax (<see cref="MixedPageContent"/>),
    /// qword by qword in address order. Clobbers rcx, rdx, rsi; preserves everything else.
    /// </summary>
    private void EmitFillMixed()
    {
        _a.Label(ref _fillMixed);
        _a.push(r10);
        _a.push(r11);
        _a.xor(r10d, r10d);
        _a.mov(r11d, MixedPageContent.Lines);
        _a.call(_fillMixedLines);
        _a.pop(r11);
        _a.pop(r10);
        _a.ret();
        EmitFillMixedLines();
    }

    /// <summary>
    /// Fills lines [r10, r11) of the page at rdx with hash rsi and value rax (<see cref="MixedPageContent.FillLines"/>),
    /// in address order. Clobbers rcx, rdx, rsi; preserves everything else.
    /// </summary>
    private void EmitFillMixedLines()
    {
        var line = _a.CreateLabel();
        _a.Label(ref _fillMixedLines);
        _a.push(rbx);
        _a.push(r8);
        _a.push(r9);
        // S = splitmix64_finalizer(key ^ page address); a = (S + 2 j0) * golden, b = (W + j0) * golden.
        _a.mov(rcx, __qword_ptr[r12 + CP.PrngKey]);
        _a.xor(rcx, rdx);
        _a.mov(r8, WorkloadPrng.Mix1);
        _a.mov(r9, WorkloadPrng.Mix2);
        EmitFinalize(rcx, rbx, r8, r9);
        _a.mov(r9, WorkloadPrng.Golden);
        _a.lea(rbx, __[rcx + r10 * 2]);
        _a.imul(rbx, r9);
        _a.add(rsi, r10);
        _a.imul(rsi, r9);
        _a.mov(r8, r10);
        _a.mov(rcx, r10);
        _a.shl(rcx, 6);
        _a.add(rdx, rcx);
        _a.Label(ref line);
        _a.mov(__qword_ptr[rdx], rbx);
        _a.lea(rcx, __[rbx + r9]);
        _a.mov(__qword_ptr[rdx + 8], rcx);
        _a.mov(__qword_ptr[rdx + 16], rsi);
        _a.mov(__qword_ptr[rdx + 24], rax);
        _a.mov(__qword_ptr[rdx + 32], r8);
        _a.mov(__qword_ptr[rdx + 40], 0);
        _a.mov(__qword_ptr[rdx + 48], 0);
        _a.mov(__qword_ptr[rdx + 56], 0);
        _a.lea(rbx, __[rbx + r9 * 2]);
        _a.add(rsi, r9);
        _a.add(rdx, MixedPageContent.LineBytes);
        _a.inc(r8);
        _a.cmp(r8, r11);
        _a.jb(line);
        _a.pop(r9);
        _a.pop(r8);
        _a.pop(rbx);
        _a.ret();
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
    /// r8 = slice base, r9 = slice end, rdi = next byte to increment. With content=mixed a first-pass write
    /// (i &lt; 4 * slice pages, r13) first fills its 1 KiB block (<see cref="MixedPageContent.FillLines"/>).
    /// </summary>
    private void EmitStride(bool mixed)
    {
        var loop = _a.CreateLabel();
        var next = _a.CreateLabel();
        var increment = _a.CreateLabel();
        _a.mov(r8, __qword_ptr[r12 + CP.RegionABase]);
        _a.mov(r9, __qword_ptr[r12 + CP.RegionAPages]);
        _a.mov(r13, r9);
        _a.shl(r13, 2);
        _a.shl(r9, 12);
        _a.add(r9, r8);
        _a.mov(rdi, r8);
        _a.mov(r15, __qword_ptr[r12 + CP.ChunkWrites]);
        _a.Label(ref loop);
        if (mixed)
        {
            _a.cmp(rbx, r13);
            _a.jae(increment);
            _a.mov(rdx, rdi);
            _a.and(rdx, -PageSize.Bytes);
            _a.mov(r10, rdi);
            _a.and(r10d, PageSize.Bytes - 1);
            _a.shr(r10, 6);
            _a.lea(r11, __[r10 + MixedPageContent.StrideBlockLines]);
            _a.xor(esi, esi);
            _a.xor(eax, eax);
            _a.call(_fillMixedLines);
            _a.Label(ref increment);
        }
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
    /// next slot. r8 = slice base, r9 = slice end, rdi = page, r11 = slot offset, r10 = value tag. With
    /// <paramref name="once"/> (fill) the first pass ends in the rest instead of wrapping to the next slot.
    /// </summary>
    private void EmitSeq(bool once)
    {
        var loop = _a.CreateLabel();
        var next = _a.CreateLabel();
        EmitLoadSliceA();
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
        if (once) EmitCountAndRest();
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
    /// r8/r9 = region A base/pages, rdi = region B base, r10 = value tag, rsi = h. With content=mixed the write
    /// fills the whole page instead of storing one slot.
    /// </summary>
    private void EmitRandom(bool hotCold, bool mixed)
    {
        var loop = _a.CreateLabel();
        var cold = _a.CreateLabel();
        var store = _a.CreateLabel();
        _a.mov(r8, __qword_ptr[r12 + CP.RegionABase]);
        _a.mov(r9, __qword_ptr[r12 + CP.RegionAPages]);
        _a.mov(rdi, __qword_ptr[r12 + CP.RegionBBase]);
        _a.mov(r10, __qword_ptr[r12 + CP.ValueTag]);
        EmitLoadPrng();
        _a.mov(r15, __qword_ptr[r12 + CP.ChunkWrites]);
        _a.Label(ref loop);
        _a.add(r13, r14);
        _a.mov(rax, r13);
        EmitFinalize(rax, rdx, rbp, r11);
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
        if (mixed)
        {
            _a.inc(rbx);
            _a.mov(rax, rbx);
            _a.xor(rax, r10);
            _a.call(_fillMixed);
            EmitCountAndChunk(loop);
            return;
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
