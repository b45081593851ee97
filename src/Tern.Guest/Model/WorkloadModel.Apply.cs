using System.Buffers.Binary;
using Tern.Memory;

namespace Tern.Guest;

/// <summary>Performing the guest's writes.</summary>
public sealed partial class WorkloadModel
{
    /// <summary>
    /// Performs exactly the memory writes vCPU <paramref name="vcpu"/> performs for counter values [from, to), in
    /// order, then stores the counter (= <paramref name="to"/>) and the running state in its control page, as the
    /// guest would. Each write asks <paramref name="pages"/> for its page, so the writer sees every page touched.
    /// Allocation-free. Idle and compute have no data writes: only the counter (ticks, iterations) is stored;
    /// compute also does its arithmetic, so a simulated vCPU costs CPU time as the real one does.
    /// fill's counter stops after its one pass: writes beyond it are not done and the counter stored is at most that.
    /// </summary>
    public void Apply<TPages>(ref TPages pages, int vcpu, ulong from, ulong to) where TPages : IGuestPageWriter, allows ref struct
    {
        CheckRange(from, to);
        var plan = PlanOf(vcpu);
        to = Math.Min(to, plan.WriteLimit);
        from = Math.Min(from, to);
        switch (plan.Kind)
        {
            case WorkloadKind.Stride when plan.Content == PageContent.Mixed: ApplyStrideMixed(ref pages, plan, from, to); break;
            case WorkloadKind.Stride: ApplyStride(ref pages, plan, from, to); break;
            case WorkloadKind.Compute: _computeSink = ComputeWork.Run(plan.Key, from, to); break;
            case WorkloadKind.Seq or WorkloadKind.Random or WorkloadKind.HotCold when plan.Content == PageContent.Mixed:
                ApplyMixed(ref pages, plan, from, to);
                break;
            case WorkloadKind.Seq: ApplySeq(ref pages, plan, from, to); break;
            case WorkloadKind.Random: ApplyRandom(ref pages, plan, from, to); break;
            case WorkloadKind.HotCold: ApplyHotCold(ref pages, plan, from, to); break;
        }
        Span<byte> control = pages.Page(new PageIndex(plan.ControlPage));
        BinaryPrimitives.WriteUInt64LittleEndian(control[ControlPage.State..], (ulong)VcpuRunState.Running);
        BinaryPrimitives.WriteUInt64LittleEndian(control[ControlPage.Counter..], to);
    }

    /// <summary><see cref="Apply{TPages}"/> on RAM held in one span from GPA 0.</summary>
    public void Apply(Span<byte> ram, int vcpu, ulong from, ulong to)
    {
        var writer = new SpanPageWriter(ram);
        Apply(ref writer, vcpu, from, to);
    }

    /// <summary><see cref="Apply{TPages}"/> on RAM in one span, setting the bit of every page written in <paramref name="dirtyBitmap"/>.</summary>
    public void Apply(Span<byte> ram, Span<ulong> dirtyBitmap, int vcpu, ulong from, ulong to)
    {
        var writer = new DirtyTrackingPageWriter(ram, dirtyBitmap);
        Apply(ref writer, vcpu, from, to);
    }

    // Keeps compute's arithmetic observable, so the JIT cannot drop it.
    private ulong _computeSink;

    /// <summary>content=mixed: each write fills its whole target page (<see cref="MixedPageContent"/>).</summary>
    private static void ApplyMixed<TPages>(ref TPages pages, in VcpuPlan plan, ulong from, ulong to) where TPages : IGuestPageWriter, allows ref struct
    {
        for (ulong i = from; i < to; i++)
        {
            ulong page = Target(plan, i).Page;
            Span<byte> bytes = pages.Page(new PageIndex(page));
            MixedPageContent.Fill(bytes, MixedPageContent.PageSeed(plan.Key, new PageIndex(page).Address.Value),
                WorkloadPrng.Hash(plan.Key, i), WorkloadPrng.Value(plan.ValueTag, i));
        }
    }

    /// <summary>stride with content=mixed: a first-pass write fills its 1 KiB block before incrementing the block's first byte.</summary>
    private static void ApplyStrideMixed<TPages>(ref TPages pages, in VcpuPlan plan, ulong from, ulong to) where TPages : IGuestPageWriter, allows ref struct
    {
        ulong slots = plan.PagesA * StrideSlotsPerPage;
        for (ulong i = from; i < to; i++)
        {
            ulong k = i % slots;
            var pageIndex = new PageIndex(plan.FirstPageA + k / StrideSlotsPerPage);
            Span<byte> page = pages.Page(pageIndex);
            int block = (int)(k % StrideSlotsPerPage);
            if (i < slots) FillStrideBlock(page, plan, pageIndex, block);
            page[block * WorkloadSpec.StrideStepBytes]++;
        }
    }

    /// <summary>The content stride's first pass puts into block <paramref name="block"/> (its first byte not yet incremented).</summary>
    internal static void FillStrideBlock(Span<byte> page, in VcpuPlan plan, PageIndex pageIndex, int block) =>
        MixedPageContent.FillLines(page, block * MixedPageContent.StrideBlockLines, (block + 1) * MixedPageContent.StrideBlockLines,
            MixedPageContent.PageSeed(plan.Key, pageIndex.Address.Value), 0, 0);

    private static void ApplyStride<TPages>(ref TPages pages, in VcpuPlan plan, ulong from, ulong to) where TPages : IGuestPageWriter, allows ref struct
    {
        ulong slots = plan.PagesA * StrideSlotsPerPage;
        ulong k = from % slots;
        for (ulong i = from; i < to; i++)
        {
            Span<byte> page = pages.Page(new PageIndex(plan.FirstPageA + k / StrideSlotsPerPage));
            page[(int)(k % StrideSlotsPerPage) * WorkloadSpec.StrideStepBytes]++;
            if (++k == slots) k = 0;
        }
    }

    private static void ApplySeq<TPages>(ref TPages pages, in VcpuPlan plan, ulong from, ulong to) where TPages : IGuestPageWriter, allows ref struct
    {
        ulong count = plan.PagesA;
        ulong j = from % count;
        int slotOffset = (int)(from / count % WorkloadPrng.SlotsPerPage) * WorkloadPrng.SlotStride;
        const int slotMask = (WorkloadPrng.SlotsPerPage - 1) * WorkloadPrng.SlotStride;
        ulong tag = plan.ValueTag;
        for (ulong i = from; i < to; i++)
        {
            Span<byte> page = pages.Page(new PageIndex(plan.FirstPageA + j));
            BinaryPrimitives.WriteUInt64LittleEndian(page[slotOffset..], (i + 1) ^ tag);
            if (++j == count)
            {
                j = 0;
                slotOffset = (slotOffset + WorkloadPrng.SlotStride) & slotMask;
            }
        }
    }

    private static void ApplyRandom<TPages>(ref TPages pages, in VcpuPlan plan, ulong from, ulong to) where TPages : IGuestPageWriter, allows ref struct
    {
        ulong z = plan.Key + from * WorkloadPrng.Golden;
        for (ulong i = from; i < to; i++)
        {
            z += WorkloadPrng.Golden;
            ulong h = WorkloadPrng.Finalize(z);
            Span<byte> page = pages.Page(new PageIndex(plan.FirstPageA + WorkloadPrng.PickPage(h, plan.PagesA)));
            BinaryPrimitives.WriteUInt64LittleEndian(page[(WorkloadPrng.Slot(h) * WorkloadPrng.SlotStride)..], (i + 1) ^ plan.ValueTag);
        }
    }

    private static void ApplyHotCold<TPages>(ref TPages pages, in VcpuPlan plan, ulong from, ulong to) where TPages : IGuestPageWriter, allows ref struct
    {
        ulong z = plan.Key + from * WorkloadPrng.Golden;
        for (ulong i = from; i < to; i++)
        {
            z += WorkloadPrng.Golden;
            ulong h = WorkloadPrng.Finalize(z);
            ulong page = WorkloadPrng.IsHot(h, plan.HotThreshold)
                ? plan.FirstPageA + WorkloadPrng.PickPage(h, plan.PagesA)
                : plan.FirstPageB + WorkloadPrng.PickPage(h, plan.PagesB);
            Span<byte> bytes = pages.Page(new PageIndex(page));
            BinaryPrimitives.WriteUInt64LittleEndian(bytes[(WorkloadPrng.Slot(h) * WorkloadPrng.SlotStride)..], (i + 1) ^ plan.ValueTag);
        }
    }
}
