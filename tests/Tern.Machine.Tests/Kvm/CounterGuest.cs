using Iced.Intel;
using Tern.Guest;
using Tern.Kvm.Structs;
using Tern.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace Tern.Machine.Tests.Kvm;

/// <summary>
/// A minimal guest for machine-layer tests, independent of Tern's workload generator: each vCPU runs at CPL3 over
/// its own region, adding 1 to the first qword of every page in turn and counting writes in its counter word, with a
/// heartbeat after every pass. Memory is exactly predictable from the counters.
/// </summary>
internal sealed class CounterGuest
{
    public const ulong Gdt = 0x1000, Pml4 = 0x2000, Pdpt = 0x3000, PageDirectories = 0x4000;
    /// <summary>
    /// A 64-bit TSS with a full I/O permission bitmap of zeros. On kvm_pvm, port I/O at CPL3 checks the TSS bitmap even
    /// with IOPL=3, so the bitmap must exist and allow the heartbeat port.
    /// </summary>
    public const ulong Tss = 0x8000, TssLimit = 0x68 + 8192;
    public const ulong Counters = 0x10000, Code = 0x20000, RegionBase = 0x400000;

    public CounterGuest(int vcpus, ulong regionBytesPerVcpu, ulong memoryBytes)
    {
        Vcpus = vcpus;
        RegionPages = regionBytesPerVcpu / PageSize.Bytes;
        MemoryBytes = memoryBytes;
        if (RegionBase + (ulong)vcpus * regionBytesPerVcpu > memoryBytes) throw new ArgumentException("regions do not fit in RAM");
    }

    public int Vcpus { get; }
    public ulong RegionPages { get; }
    public ulong MemoryBytes { get; }

    public ulong RegionStart(int vcpu) => RegionBase + (ulong)vcpu * RegionPages * PageSize.Bytes;
    public GuestAddress CounterAddress(int vcpu) => new(Counters + (ulong)vcpu * 8);

    public BootImage Build() => Build(AssembleLoop());

    /// <summary>The same machine set-up with other CPL3 code at the entry point (for fault and device tests).</summary>
    public BootImage Build(byte[] code)
    {
        var blobs = new List<MemoryBlob>();
        // Flat GDT: null, kernel code, kernel data, user data (0x1b), user code 64-bit (0x23).
        var gdt = new byte[40];
        BitConverter.TryWriteBytes(gdt.AsSpan(8), 0x00AF9A000000FFFFUL);
        BitConverter.TryWriteBytes(gdt.AsSpan(16), 0x00CF92000000FFFFUL);
        BitConverter.TryWriteBytes(gdt.AsSpan(24), 0x00CFF2000000FFFFUL);
        BitConverter.TryWriteBytes(gdt.AsSpan(32), 0x00AFFA000000FFFFUL);
        blobs.Add(new MemoryBlob(new GuestAddress(Gdt), gdt));
        // Identity map of the first 4 GiB with 2 MiB user pages.
        var pml4 = new byte[4096];
        BitConverter.TryWriteBytes(pml4, Pdpt | 7);
        var pdpt = new byte[4096];
        var pds = new byte[4 * 4096];
        for (int g = 0; g < 4; g++)
        {
            BitConverter.TryWriteBytes(pdpt.AsSpan(g * 8), PageDirectories + (ulong)g * 4096 | 7);
            for (int e = 0; e < 512; e++)
                BitConverter.TryWriteBytes(pds.AsSpan(g * 4096 + e * 8), ((ulong)(g * 512 + e) << 21) | 0x87);
        }
        blobs.Add(new MemoryBlob(new GuestAddress(Pml4), pml4));
        blobs.Add(new MemoryBlob(new GuestAddress(Pdpt), pdpt));
        blobs.Add(new MemoryBlob(new GuestAddress(PageDirectories), pds));
        blobs.Add(new MemoryBlob(new GuestAddress(Code), code));
        var tss = new byte[TssLimit + 1];
        BitConverter.TryWriteBytes(tss.AsSpan(0x66), (ushort)0x68); // I/O map base: right after the TSS fields
        tss[^1] = 0xFF; // the bitmap's terminating byte
        blobs.Add(new MemoryBlob(new GuestAddress(Tss), tss));

        var entries = new List<VcpuEntry>();
        for (int v = 0; v < Vcpus; v++)
        {
            var regs = new KvmRegs
            {
                Rip = Code,
                Rflags = 0x3002, // IOPL 3: `out` allowed at CPL3
                Rsp = 0x80000 + (ulong)v * 0x1000,
                Rdi = RegionStart(v),
                Rsi = RegionStart(v) + RegionPages * PageSize.Bytes,
                Rbx = CounterAddress(v).Value,
                Rbp = RegionStart(v),
            };
            entries.Add(new VcpuEntry(regs, UserModeSregs()));
        }
        return new BootImage(blobs, entries);
    }

    /// <summary>Assembles CPL3 code placed at <see cref="Code"/>.</summary>
    public static byte[] Assemble(Action<Assembler> emit)
    {
        var a = new Assembler(64);
        emit(a);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), Code);
        return stream.ToArray();
    }

    private static byte[] AssembleLoop() => Assemble(a =>
    {
        var top = a.CreateLabel();
        var inner = a.CreateLabel();
        a.Label(ref top);
        a.mov(rdi, rbp);
        a.Label(ref inner);
        a.add(__qword_ptr[rdi], 1);
        a.add(__qword_ptr[rbx], 1);
        a.add(rdi, 4096);
        a.cmp(rdi, rsi);
        a.jb(inner);
        a.mov(dx, Tern.Guest.GuestPorts.Heartbeat);
        a.@out(dx, al);
        a.jmp(top);
    });

    private static KvmSregs UserModeSregs()
    {
        var code = new KvmSegment { Base = 0, Limit = 0xFFFFFFFF, Selector = 0x23, Type = 11, Present = 1, Dpl = 3, S = 1, L = 1, G = 1 };
        var data = new KvmSegment { Base = 0, Limit = 0xFFFFFFFF, Selector = 0x1B, Type = 3, Present = 1, Dpl = 3, Db = 1, S = 1, G = 1 };
        var tr = new KvmSegment { Base = Tss, Limit = (uint)TssLimit, Selector = 0, Type = 11, Present = 1, S = 0 };
        return new KvmSregs
        {
            Cs = code, Ds = data, Es = data, Fs = data, Gs = data, Ss = data, Tr = tr,
            Ldt = new KvmSegment { Type = 2, Present = 1, Unusable = 1 },
            Gdt = new KvmDtable { Base = Gdt, Limit = 39 },
            Idt = new KvmDtable { Base = 0, Limit = 0 },
            Cr0 = 0x80050033, Cr3 = Pml4, Cr4 = 0x620, Efer = 0x500,
        };
    }

    public ulong ReadCounter(IGuestMemory memory, int vcpu) =>
        BitConverter.ToUInt64(memory.GetSpan(CounterAddress(vcpu), 8));

    /// <summary>
    /// Checks every page of every region against the counters. The write of the page after the last counted write
    /// may or may not have happened (the guest can be paused between the two stores), so that page may be one ahead.
    /// Returns null when everything matches, else a description of the first mismatch.
    /// </summary>
    public string? Verify(IGuestMemory memory)
    {
        for (int v = 0; v < Vcpus; v++)
        {
            ulong c = ReadCounter(memory, v);
            ulong passes = c / RegionPages, partial = c % RegionPages;
            for (ulong p = 0; p < RegionPages; p++)
            {
                ulong expected = passes + (p < partial ? 1UL : 0UL);
                ulong actual = BitConverter.ToUInt64(memory.GetSpan(new GuestAddress(RegionStart(v) + p * PageSize.Bytes), 8));
                bool inFlight = p == partial && actual == expected + 1;
                if (actual != expected && !inFlight)
                    return $"vCPU {v} page {p}: expected {expected} (counter {c}), found {actual}";
                var rest = memory.GetSpan(new GuestAddress(RegionStart(v) + p * PageSize.Bytes + 8), PageSize.Bytes - 8);
                if (rest.IndexOfAnyExcept((byte)0) >= 0) return $"vCPU {v} page {p}: bytes beyond the counter word are not zero";
            }
        }
        return null;
    }
}
