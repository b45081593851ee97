using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// Where everything of a built-in guest lives in guest-physical memory. RAM is contiguous from GPA 0 and
/// identity-mapped. Everything Tern places sits at or above 1 MiB (below is left to firmware when the
/// multiboot export boots under QEMU):
/// <code>
///   0x100000  parameter block (4 KiB)      global parameters, banner, spec text
///   0x101000  GDT (4 KiB)                  null, kernel code/data, user data/code, one TSS descriptor per vCPU
///   0x102000  IDT (4 KiB)                  256 gates: exceptions 0-31, timer 0x20, spurious 0xFF
///   0x103000  TSS area (8 KiB)             one 128-byte slot per vCPU
///   0x105000  I/O permission bitmap (4 KiB) shared by all TSSs: grants CPL3 the guest's four ports, nothing else
///   0x106000  code (28 KiB reserved)       64-bit workload code, exception stubs, 32-bit multiboot entry
///   0x10D000  page tables                  PML4, PDPT, one PD per GiB of RAM (2 MiB pages, user bit)
///   then      per vCPU, 16 KiB each        control page, kernel stack page, 8 KiB stack
///   then      boot-info page (4 KiB)       where a multiboot loader puts its info structure
///   next 2 MiB boundary: the working set   the only memory the workloads write (plus the pages below)
/// </code>
/// A shared workload splits its working set into per-vCPU slices; a per-vCPU workload lays the vCPUs' own working
/// sets end to end, in vCPU order (a vCPU that writes no memory has an empty slice there).
/// </summary>
public sealed class GuestLayout
{
    public const ulong SystemBase = 0x10_0000;
    public const ulong CodeCapacity = 0x7000;
    public const ulong LargePageBytes = 2UL << 20;
    public const ulong MaxRamBytes = 512UL << 30;
    internal const ulong VcpuAreaBytes = 0x4000;
    internal const ulong StackBytes = 0x2000;
    internal const int TssSlotBytes = 128;
    internal const ushort FirstTssSelector = 0x28;

    /// <summary>Bytes of the I/O permission bitmap: one bit per port up to the panic port, plus the 0xFF byte the CPU requires after it.</summary>
    internal const int IoBitmapBytes = GuestPorts.Panic / 8 + 2;

    public GuestWorkload Workload { get; }
    public ulong RamBytes { get; }
    public int VcpuCount { get; }

    public GuestAddress ParameterBlock => new(SystemBase);
    public GuestAddress Gdt => new(SystemBase + 0x1000);
    public GuestAddress Idt => new(SystemBase + 0x2000);
    public GuestAddress TssArea => new(SystemBase + 0x3000);
    public GuestAddress IoBitmap => new(SystemBase + 0x5000);
    public GuestAddress Code => new(SystemBase + 0x6000);
    public GuestAddress Pml4 => new(SystemBase + 0xD000);
    public GuestAddress Pdpt => Pml4.Add(PageSize.Bytes);
    public GuestAddress FirstPageDirectory => Pdpt.Add(PageSize.Bytes);

    /// <summary>One page directory per GiB of RAM (the last may be partly filled).</summary>
    public int PageDirectoryCount { get; }

    /// <summary>PML4 + PDPT + page directories: the pages the CPU walks (and may set accessed/dirty bits in).</summary>
    public GuestRegion PageTables { get; }

    public IReadOnlyList<VcpuLayout> Vcpus { get; }

    /// <summary>A free page right after the vCPU areas, where a multiboot loader (QEMU's or <see cref="Multiboot.MultibootImage"/>) puts its info.</summary>
    public GuestAddress BootInfo { get; }

    /// <summary>Everything below the working set: [0, <see cref="WorkingSet"/>.Start).</summary>
    public GuestRegion ReservedArea { get; }

    /// <summary>The memory the workload writes, split into per-vCPU slices (empty for idle).</summary>
    public GuestRegion WorkingSet { get; }

    /// <summary>The named regions Tern fills or reserves, for overlap checks and for humans.</summary>
    public IReadOnlyList<GuestRegion> Regions { get; }

    /// <summary>
    /// Pages outside the working set that the guest or the CPU legitimately writes while running: control pages,
    /// stacks (the workloads call a helper; exceptions push frames), page-table pages (accessed/dirty bits, although
    /// the builder presets them) and the GDT page (the TSS busy bit, set by ltr on the multiboot path).
    /// </summary>
    public IReadOnlyList<GuestRegion> WrittenOutsideWorkingSet { get; }

    private GuestLayout(GuestWorkload workload, ulong ramBytes, int vcpuCount)
    {
        Workload = workload;
        RamBytes = ramBytes;
        VcpuCount = vcpuCount;
        PageDirectoryCount = (int)((ramBytes + (1UL << 30) - 1) >> 30);
        PageTables = new GuestRegion("page-tables", Pml4, (ulong)(2 + PageDirectoryCount) * PageSize.Bytes);

        GuestAddress vcpuAreas = PageTables.End;
        BootInfo = vcpuAreas.Add((ulong)vcpuCount * VcpuAreaBytes);
        ulong systemEnd = BootInfo.Value + PageSize.Bytes;
        ulong wsBase = (systemEnd + LargePageBytes - 1) & ~(LargePageBytes - 1);
        ReservedArea = new GuestRegion("reserved", GuestAddress.Zero, wsBase);
        WorkingSet = new GuestRegion("working-set", new GuestAddress(wsBase), workload.WorkingSetBytes);
        CheckFits();

        var vcpus = new VcpuLayout[vcpuCount];
        for (int v = 0; v < vcpuCount; v++)
        {
            GuestAddress area = vcpuAreas.Add((ulong)v * VcpuAreaBytes);
            vcpus[v] = new VcpuLayout
            {
                Index = v,
                ControlPage = area,
                KernelStack = area.Add(PageSize.Bytes),
                Stack = new GuestRegion($"stack[{v}]", area.Add(2 * PageSize.Bytes), StackBytes),
                Tss = TssArea.Add((ulong)v * TssSlotBytes),
                TssLimit = (uint)(IoBitmap.Value + IoBitmapBytes - 1 - TssArea.Value - (ulong)v * TssSlotBytes),
                TssSelector = (ushort)(FirstTssSelector + 16 * v),
                Slice = SliceOf(v),
                Workload = workload.For(v),
            };
        }
        Vcpus = vcpus;

        var regions = new List<GuestRegion>
        {
            new("parameters", ParameterBlock, PageSize.Bytes),
            new("gdt", Gdt, PageSize.Bytes),
            new("idt", Idt, PageSize.Bytes),
            new("tss", TssArea, 2 * PageSize.Bytes),
            new("io-bitmap", IoBitmap, PageSize.Bytes),
            new("code", Code, CodeCapacity),
            PageTables,
        };
        var written = new List<GuestRegion> { new("gdt", Gdt, PageSize.Bytes), PageTables };
        foreach (var v in vcpus)
        {
            var control = new GuestRegion($"control[{v.Index}]", v.ControlPage, PageSize.Bytes);
            var kernelStack = new GuestRegion($"kernel-stack[{v.Index}]", v.KernelStack, PageSize.Bytes);
            regions.AddRange([control, kernelStack, v.Stack]);
            written.AddRange([control, kernelStack, v.Stack]);
        }
        regions.Add(new GuestRegion("boot-info", BootInfo, PageSize.Bytes));
        regions.Add(WorkingSet);
        Regions = regions;
        WrittenOutsideWorkingSet = written;
    }

    /// <summary>Computes the layout, or throws <see cref="GuestConfigurationException"/> saying why it cannot exist.</summary>
    public static GuestLayout Compute(GuestWorkload workload, ulong ramBytes, int vcpuCount)
    {
        ArgumentNullException.ThrowIfNull(workload);
        workload.CheckVcpuCount(vcpuCount);
        if (vcpuCount < 1 || vcpuCount > GuestBuildOptions.MaxVcpus)
            throw new GuestConfigurationException($"{vcpuCount} vCPUs: a Tern guest has between 1 and {GuestBuildOptions.MaxVcpus} vCPUs (the TSS area and control pages are sized for {GuestBuildOptions.MaxVcpus})");
        if (ramBytes == 0 || ramBytes % LargePageBytes != 0)
            throw new GuestConfigurationException($"RAM of {ramBytes} bytes is not a multiple of 2 MiB; the guest maps RAM with 2 MiB pages (try {SizeText.Format((ramBytes / LargePageBytes + 1) * LargePageBytes)})");
        if (ramBytes > MaxRamBytes)
            throw new GuestConfigurationException($"RAM of {ByteSize.Format(ramBytes)} is more than the {ByteSize.Format(MaxRamBytes)} one page-directory-pointer table maps");
        return new GuestLayout(workload, ramBytes, vcpuCount);
    }

    /// <summary>The vCPU whose slice contains <paramref name="page"/>, or -1 if no vCPU writes it.</summary>
    public int OwnerOf(PageIndex page)
    {
        if (!WorkingSet.Contains(page)) return -1;
        foreach (var v in Vcpus)
            if (v.Slice.Contains(page)) return v.Index;
        return -1;
    }

    /// <summary>True if the guest or CPU may write <paramref name="page"/> outside the working set.</summary>
    public bool IsWrittenOutsideWorkingSet(PageIndex page)
    {
        foreach (var r in WrittenOutsideWorkingSet)
            if (r.Contains(page)) return true;
        return false;
    }

    private void CheckFits()
    {
        if (WorkingSet.End.Value <= RamBytes) return;
        ulong usable = RamBytes > WorkingSet.Start.Value ? RamBytes - WorkingSet.Start.Value : 0;
        ulong needed = WorkingSet.End.Value;
        ulong neededRam = (needed + LargePageBytes - 1) & ~(LargePageBytes - 1);
        throw new GuestConfigurationException(
            $"{Workload}: the working set ({ByteSize.Format(WorkingSet.Length)}) does not fit in {ByteSize.Format(RamBytes)} of RAM: " +
            $"the guest reserves the first {ByteSize.Format(WorkingSet.Start.Value)} (tables, code, stacks for {VcpuCount} vCPUs), leaving {ByteSize.Format(usable)}; " +
            $"give the guest at least {SizeText.Format(neededRam)} of RAM or use a smaller ws=");
    }

    private VcpuSlice SliceOf(int v)
    {
        if (!Workload.IsPerVcpu) return SliceOf(Workload.Specs[0], WorkingSet.Start, v, VcpuCount);
        // Per-vCPU working sets lie end to end in vCPU order; each is the whole of its vCPU's "slice".
        ulong before = 0;
        for (int u = 0; u < v; u++) before += Workload.Specs[u].WorkingSetBytes;
        return SliceOf(Workload.Specs[v], WorkingSet.Start.Add(before), 0, 1);
    }

    /// <summary>Slice <paramref name="v"/> of <paramref name="n"/> of the working set of <paramref name="w"/>, which starts at <paramref name="start"/>.</summary>
    private static VcpuSlice SliceOf(WorkloadSpec w, GuestAddress start, int v, int n)
    {
        ulong pages = w.WorkingSetBytes / PageSize.Bytes;
        GuestAddress PageAt(ulong pageInWorkingSet) => start.Add(pageInWorkingSet * PageSize.Bytes);
        switch (w.Kind)
        {
            case WorkloadKind.Idle:
            case WorkloadKind.Compute:
                return new VcpuSlice(start, 0, start, 0);
            case WorkloadKind.HotCold:
            {
                ulong hot = w.HotBytes / PageSize.Bytes;
                ulong cold = pages - hot;
                if (w.HotProbability > 0 && hot < (ulong)n)
                    throw new GuestConfigurationException($"{w}: the hot set ({Pages(hot)}) cannot give each of {n} vCPUs a page; use hot={SizeText.Format((ulong)n * PageSize.Bytes)} or more");
                if (w.HotProbability < 1 && cold < (ulong)n)
                    throw new GuestConfigurationException($"{w}: the cold set ({Pages(cold)}) cannot give each of {n} vCPUs a page; make ws= at least {n} pages larger than hot=");
                var (hotStart, hotCount) = Split(hot, v, n);
                var (coldStart, coldCount) = Split(cold, v, n);
                return new VcpuSlice(PageAt(hotStart), hotCount, PageAt(hot + coldStart), coldCount);
            }
            default:
            {
                if (pages < (ulong)n)
                    throw new GuestConfigurationException($"{w}: a working set of {Pages(pages)} cannot give each of {n} vCPUs a page; use ws={SizeText.Format((ulong)n * PageSize.Bytes)} or more");
                var (first, count) = Split(pages, v, n);
                return new VcpuSlice(PageAt(first), count, start.Add(w.WorkingSetBytes), 0);
            }
        }
    }

    private static string Pages(ulong n) => n == 1 ? "1 page" : $"{n} pages";

    /// <summary>vCPU v of n gets pages [v*total/n, (v+1)*total/n): sizes differ by at most one page.</summary>
    private static (ulong Start, ulong Count) Split(ulong total, int v, int n)
    {
        ulong start = (ulong)((UInt128)total * (ulong)v / (ulong)n);
        ulong end = (ulong)((UInt128)total * (ulong)(v + 1) / (ulong)n);
        return (start, end - start);
    }
}
