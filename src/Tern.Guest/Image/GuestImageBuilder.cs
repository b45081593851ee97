using System.Buffers.Binary;
using System.Text;
using Tern.Guest.Codegen;
using Tern.Memory;
using CP = Tern.Guest.ControlPage;
using PB = Tern.Guest.ParameterBlock;

namespace Tern.Guest;

/// <summary>Builds the image of a built-in guest: layout, generated code, tables, parameters and entry states.</summary>
public static class GuestImageBuilder
{
    /// <summary>Writes between two looks at the TSC when the workload runs without a rate cap.</summary>
    public const int DefaultChunkWrites = 256;

    /// <summary>
    /// Builds the image, or throws <see cref="GuestConfigurationException"/> (or <see cref="FormatException"/> from the
    /// spec) saying why the request cannot work.
    /// </summary>
    public static GuestImage Build(GuestWorkload spec, ulong ramBytes, GuestBuildOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        var layout = GuestLayout.Compute(spec, ramBytes, options.VcpuCount);
        var code = GuestCodeGenerator.Generate(layout);

        var blobs = new List<GuestBlob>
        {
            new("parameters", layout.ParameterBlock, ParameterPage(layout, options)),
            new("gdt", layout.Gdt, SystemTables.Gdt(layout)),
            new("idt", layout.Idt, SystemTables.Idt(code)),
            new("tss", layout.TssArea, SystemTables.TssArea(layout)),
            new("io-bitmap", layout.IoBitmap, SystemTables.IoBitmap()),
            new("code", code.Base, code.Bytes),
            new("page-tables", layout.Pml4, SystemTables.PageTables(layout)),
        };
        var model = new WorkloadModel(layout);
        foreach (var v in layout.Vcpus)
        {
            blobs.Add(new GuestBlob($"control[{v.Index}]", v.ControlPage, ControlPageInputs(layout, v, model)));
            blobs.Add(new GuestBlob($"kernel-stack[{v.Index}]", v.KernelStack, KernelStackHeader(v)));
        }
        var vcpus = layout.Vcpus.Select(v => EntryStates.LongMode(layout, v, code)).ToArray();
        return new GuestImage(ramBytes, blobs, vcpus, spec, layout, code.Boot32);
    }

    /// <summary>
    /// The rate cap in writes per second: MiB/s of distinct 4 KiB pages, times the writes that land in one page
    /// (4 for stride, 1 for the others). At least one write per second.
    /// </summary>
    public static ulong RateWritesPerSecond(WorkloadSpec spec) => spec.RateMiBPerSecond is { } rate
        ? (ulong)Math.Max(1, Math.Min(1e15, Math.Round(rate * (1 << 20) / PageSize.Bytes * spec.WritesPerPage)))
        : 0;

    /// <summary>Writes per TSC check: 256, or fewer under a low rate cap so that bursts stay under about a millisecond.</summary>
    public static ulong ChunkWrites(WorkloadSpec spec)
    {
        ulong rate = RateWritesPerSecond(spec);
        return rate == 0 ? DefaultChunkWrites : Math.Clamp(rate / 1000, 1, DefaultChunkWrites);
    }

    /// <summary>The serial banner vCPU 0 prints at start (a long per-vCPU workload is cut short to fit the parameter block).</summary>
    public static string Banner(GuestWorkload spec, int vcpuCount)
    {
        string text = spec.ToString();
        string tail = $" vcpus={vcpuCount}\n";
        int room = PB.BannerCapacity - "tern-guest: ".Length - tail.Length;
        if (text.Length > room) text = text[..(room - 3)] + "...";
        return $"tern-guest: {text}{tail}";
    }

    private static byte[] ParameterPage(GuestLayout layout, GuestBuildOptions options)
    {
        var spec = layout.Workload;
        // The rate cap, chunk and kind here are vCPU 0's (a per-vCPU workload keeps each vCPU's in its control page).
        var first = layout.Vcpus[0].Workload;
        var page = new byte[PageSize.Bytes];
        var p = page.AsSpan();
        Put(p, PB.Magic, PB.MagicValue);
        BinaryPrimitives.WriteUInt32LittleEndian(p[PB.LayoutVersion..], PB.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(p[PB.Kind..], (uint)first.Kind);
        Put(p, PB.VcpuCount, (ulong)layout.VcpuCount);
        Put(p, PB.RamBytes, layout.RamBytes);
        Put(p, PB.WorkingSetBase, layout.WorkingSet.Start.Value);
        Put(p, PB.WorkingSetBytes, layout.WorkingSet.Length);
        Put(p, PB.TscKhz, options.TscKhz);
        Put(p, PB.RateWritesPerSecond, RateWritesPerSecond(first));
        Put(p, PB.ChunkWrites, ChunkWrites(first));
        Put(p, PB.ApicTimerInitialCount, options.ApicTimerHz / 1000);
        Put(p, PB.Seed, first.Seed);
        Put(p, PB.FirstVcpuArea, layout.Vcpus[0].ControlPage.Value);
        Put(p, PB.VcpuAreaStride, GuestLayout.VcpuAreaBytes);
        WriteText(p, PB.BannerLength, PB.Banner, PB.BannerCapacity, Banner(spec, layout.VcpuCount));
        WriteText(p, PB.SpecLength, PB.Spec, PB.SpecCapacity, spec.ToString());
        ulong needMib = (layout.WorkingSet.End.Value + (1UL << 20) - 1) >> 20;
        WriteText(p, PB.BootMessageLength, PB.BootMessage, PB.BootMessageCapacity,
            $"tern-guest: needs at least {needMib} MiB of RAM; boot it with -m {SizeText.Format(layout.RamBytes)}\n");
        return page;
    }

    private static void Put(Span<byte> page, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(page[offset..], value);

    private static void WriteText(Span<byte> page, int lengthOffset, int textOffset, int capacity, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        if (bytes.Length > capacity)
            throw new GuestConfigurationException($"'{text.TrimEnd()}' is longer than the {capacity} bytes the parameter block has for it");
        BinaryPrimitives.WriteUInt64LittleEndian(page[lengthOffset..], (ulong)bytes.Length);
        bytes.CopyTo(page[textOffset..]);
    }

    private static byte[] ControlPageInputs(GuestLayout layout, VcpuLayout v, WorkloadModel model)
    {
        var page = new byte[PageSize.Bytes];
        var p = page.AsSpan();
        var plan = model.PlanOf(v.Index);
        Put(p, CP.Magic, CP.MagicValue);
        Put(p, CP.VcpuIndex, (ulong)v.Index);
        Put(p, CP.RegionABase, v.Slice.RegionABase.Value);
        Put(p, CP.RegionAPages, v.Slice.RegionAPages);
        Put(p, CP.RegionBBase, v.Slice.RegionBBase.Value);
        Put(p, CP.RegionBPages, v.Slice.RegionBPages);
        Put(p, CP.PrngKey, plan.Key);
        Put(p, CP.ValueTag, plan.ValueTag);
        Put(p, CP.HotThreshold, plan.HotThreshold);
        Put(p, CP.RateWritesPerSecond, RateWritesPerSecond(v.Workload));
        Put(p, CP.ChunkWrites, ChunkWrites(v.Workload));
        return page;
    }

    /// <summary>The first 16 bytes of the kernel stack page: what the exception handler needs to find the control page.</summary>
    private static byte[] KernelStackHeader(VcpuLayout v)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(header, v.ControlPage.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), (ulong)v.Index);
        return header;
    }
}
