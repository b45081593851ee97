using System.Buffers.Binary;
using Tern.Memory;

namespace Tern.Guest;

/// <summary>Checking guest memory against the counters.</summary>
public sealed partial class WorkloadModel
{
    /// <summary>
    /// Checks every byte of the working set against what <paramref name="counters"/> (one per vCPU, as read from the
    /// control pages) imply, starting from zero-filled RAM. Each vCPU's write number counters[v], the one that may be
    /// in memory but not yet counted, is accepted whether applied or not; nothing else is tolerated.
    /// The page workloads are checked by replaying writes backwards from the counter until every (page, slot) has
    /// its last writer (at most 8 passes for seq; about 8P·ln(8P) writes for random over P pages), stride in
    /// closed form.
    /// </summary>
    public VerificationReport Verify<TPages>(ref TPages ram, ReadOnlySpan<ulong> counters, int maxMismatches = 16)
        where TPages : IGuestPageReader, allows ref struct
    {
        CheckCounters(counters);
        var sink = new MismatchSink(maxMismatches);
        var inFlight = new bool[_plans.Length];
        ulong pagesChecked = 0;
        for (int v = 0; v < _plans.Length; v++)
        {
            var plan = _plans[v];
            switch (plan.Kind)
            {
                case WorkloadKind.Idle:
                case WorkloadKind.Compute:
                    break;
                case WorkloadKind.Stride when plan.Content == PageContent.Mixed:
                    inFlight[v] = VerifyStrideMixed(ref ram, plan, counters[v], sink);
                    pagesChecked += plan.SlicePages;
                    break;
                case WorkloadKind.Stride:
                    inFlight[v] = VerifyStride(ref ram, plan, counters[v], sink);
                    pagesChecked += plan.SlicePages;
                    break;
                case var _ when plan.Content == PageContent.Mixed:
                    inFlight[v] = VerifyMixedPages(ref ram, plan, counters[v], sink);
                    pagesChecked += plan.SlicePages;
                    break;
                default:
                    inFlight[v] = VerifySlots(ref ram, plan, counters[v], sink);
                    pagesChecked += plan.SlicePages;
                    break;
            }
        }
        return new VerificationReport(sink.First, sink.Count, inFlight, pagesChecked);
    }

    /// <summary><see cref="Verify{TPages}"/> on RAM held in one span from GPA 0.</summary>
    public VerificationReport Verify(ReadOnlySpan<byte> ram, ReadOnlySpan<ulong> counters, int maxMismatches = 16)
    {
        var reader = new SpanPageReader(ram);
        return Verify(ref reader, counters, maxMismatches);
    }

    /// <summary>stride: byte k of the slice's slots was incremented once per pass that reached it, mod 256.</summary>
    private static bool VerifyStride<TPages>(ref TPages ram, in VcpuPlan plan, ulong counter, MismatchSink sink)
        where TPages : IGuestPageReader, allows ref struct
    {
        ulong slots = plan.PagesA * StrideSlotsPerPage;
        ulong passes = counter / slots;
        ulong partial = counter % slots; // slots [0, partial) got one more; slot `partial` is the in-flight one
        bool inFlightApplied = false;
        for (ulong p = 0; p < plan.PagesA; p++)
        {
            var page = new PageIndex(plan.FirstPageA + p);
            ReadOnlySpan<byte> bytes = ram.Page(page);
            for (int s = 0; s < StrideSlotsPerPage; s++)
            {
                ulong k = p * StrideSlotsPerPage + (ulong)s;
                int offset = s * WorkloadSpec.StrideStepBytes;
                byte expected = (byte)(passes + (k < partial ? 1UL : 0));
                byte actual = bytes[offset];
                if (actual != expected)
                {
                    if (k == partial && actual == (byte)(expected + 1)) inFlightApplied = true;
                    else sink.Add(plan.Vcpu, page, offset, [expected], [actual]);
                }
                CheckZero(bytes, page, offset + 1, WorkloadSpec.StrideStepBytes - 1, plan.Vcpu, sink);
            }
        }
        return inFlightApplied;
    }

    /// <summary>
    /// stride with content=mixed: a block the first pass reached holds its content with the first byte incremented
    /// once per pass that reached it; a block not reached yet is zero. The in-flight write's block may be part-way
    /// through its first-pass fill (content up to some qword, zeros after), or filled but not yet incremented.
    /// </summary>
    private static bool VerifyStrideMixed<TPages>(ref TPages ram, in VcpuPlan plan, ulong counter, MismatchSink sink)
        where TPages : IGuestPageReader, allows ref struct
    {
        ulong slots = plan.PagesA * StrideSlotsPerPage;
        ulong passes = counter / slots;
        ulong partial = counter % slots; // slots [0, partial) got one more; slot `partial` is the in-flight one
        bool inFlightApplied = false;
        Span<byte> expected = stackalloc byte[PageSize.Bytes];
        Span<byte> content = stackalloc byte[PageSize.Bytes];
        const int blockBytes = WorkloadSpec.StrideStepBytes;
        for (ulong p = 0; p < plan.PagesA; p++)
        {
            var page = new PageIndex(plan.FirstPageA + p);
            ReadOnlySpan<byte> bytes = ram.Page(page);
            expected.Clear();
            for (int s = 0; s < StrideSlotsPerPage; s++)
            {
                ulong k = p * StrideSlotsPerPage + (ulong)s;
                int offset = s * blockBytes;
                bool filled = passes > 0 || k < partial;
                if (filled) FillStrideBlock(expected, plan, page, s);
                expected[offset] += (byte)(passes + (k < partial ? 1UL : 0));
                ReadOnlySpan<byte> actual = bytes.Slice(offset, blockBytes);
                ReadOnlySpan<byte> want = expected.Slice(offset, blockBytes);
                if (actual.SequenceEqual(want)) continue;
                if (k == partial)
                {
                    if (!filled)
                    {
                        // First-pass fill in flight: content for a prefix of qwords, zeros after, then maybe the increment.
                        FillStrideBlock(content, plan, page, s);
                        ReadOnlySpan<byte> block = content.Slice(offset, blockBytes);
                        int prefix = 0;
                        while (prefix < blockBytes && actual.Slice(prefix, 8).SequenceEqual(block.Slice(prefix, 8))) prefix += 8;
                        if (actual[prefix..].IndexOfAnyExcept((byte)0) < 0) { inFlightApplied = prefix > 0; continue; }
                        if (prefix == 0 && actual[0] == (byte)(block[0] + 1) && actual[1..].SequenceEqual(block[1..])) { inFlightApplied = true; continue; }
                    }
                    else if (actual[0] == (byte)(want[0] + 1) && actual[1..].SequenceEqual(want[1..]))
                    {
                        inFlightApplied = true;
                        continue;
                    }
                }
                int at = offset + actual.CommonPrefixLength(want);
                sink.Add(plan.Vcpu, page, at, [expected[at]], [bytes[at]]);
            }
        }
        return inFlightApplied;
    }

    /// <summary>seq, random, hotcold: each 8-byte slot holds the value of the last write that hit it, or zero.</summary>
    private static bool VerifySlots<TPages>(ref TPages ram, in VcpuPlan plan, ulong counter, MismatchSink sink)
        where TPages : IGuestPageReader, allows ref struct
    {
        ulong pairs = plan.SlicePages * WorkloadPrng.SlotsPerPage;
        var known = new ulong[(pairs + 63) / 64];
        ulong reachable = (plan.Kind == WorkloadKind.Seq ? plan.PagesA : ReachablePages(plan)) * WorkloadPrng.SlotsPerPage;
        ulong determined = 0;

        // The in-flight write: if its value is in memory, that slot is accounted for.
        bool inFlightApplied = false;
        {
            var (page, slot) = Target(plan, counter);
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(ram.Page(new PageIndex(page))[(slot * WorkloadPrng.SlotStride)..]);
            if (value == WorkloadPrng.Value(plan.ValueTag, counter))
            {
                inFlightApplied = true;
                MarkKnown(known, plan, page, slot);
                determined++;
            }
        }

        // Replay backwards: the first time a (page, slot) comes up, that write is its last one.
        for (ulong i = counter; i > 0 && determined < reachable;)
        {
            i--;
            var (page, slot) = Target(plan, i);
            if (!MarkKnown(known, plan, page, slot)) continue;
            determined++;
            var pageIndex = new PageIndex(page);
            int offset = slot * WorkloadPrng.SlotStride;
            ulong actual = BinaryPrimitives.ReadUInt64LittleEndian(ram.Page(pageIndex)[offset..]);
            ulong expected = WorkloadPrng.Value(plan.ValueTag, i);
            if (actual != expected) sink.Add(plan.Vcpu, pageIndex, offset, LittleEndian(expected), LittleEndian(actual));
        }

        // Everything else in the slice is zero: slots nobody wrote and the 504 bytes after each slot.
        for (ulong p = 0; p < plan.SlicePages; p++)
        {
            var page = new PageIndex(plan.PageAt(p));
            ReadOnlySpan<byte> bytes = ram.Page(page);
            for (int s = 0; s < WorkloadPrng.SlotsPerPage; s++)
            {
                int offset = s * WorkloadPrng.SlotStride;
                ulong pair = p * WorkloadPrng.SlotsPerPage + (ulong)s;
                if ((known[pair >> 6] & (1UL << (int)(pair & 63))) == 0)
                    CheckZero(bytes, page, offset, 8, plan.Vcpu, sink);
                CheckZero(bytes, page, offset + 8, WorkloadPrng.SlotStride - 8, plan.Vcpu, sink);
            }
        }
        return inFlightApplied;
    }

    /// <summary>
    /// content=mixed: each page holds exactly the content its last write filled it with, or zeros if no write reached
    /// it. The in-flight write's page may be part-way through its fill: new content up to some qword, the previous
    /// content (or zeros) from there on, since the guest fills a page in address order.
    /// </summary>
    private static bool VerifyMixedPages<TPages>(ref TPages ram, in VcpuPlan plan, ulong counter, MismatchSink sink)
        where TPages : IGuestPageReader, allows ref struct
    {
        var known = new ulong[(plan.SlicePages + 63) / 64];
        ulong reachable = plan.Kind == WorkloadKind.Seq ? plan.PagesA : ReachablePages(plan);
        ulong determined = 0;
        Span<byte> expected = new byte[PageSize.Bytes];
        ulong inFlightPage = Target(plan, counter).Page;
        ulong? inFlightPrevious = null;

        for (ulong i = counter; i > 0 && determined < reachable;)
        {
            i--;
            ulong page = Target(plan, i).Page;
            if (!MarkPage(known, plan, page)) continue;
            determined++;
            if (page == inFlightPage)
            {
                inFlightPrevious = i;
                continue;
            }
            FillExpected(expected, plan, page, i);
            ComparePage(ram.Page(new PageIndex(page)), expected, 0, new PageIndex(page), plan.Vcpu, sink);
        }

        // The in-flight page: new content for a prefix of qwords (possibly none or all), the previous after it.
        bool applied;
        {
            var index = new PageIndex(inFlightPage);
            ReadOnlySpan<byte> actual = ram.Page(index);
            FillExpected(expected, plan, inFlightPage, counter);
            int prefix = 0;
            while (prefix < PageSize.Bytes && actual.Slice(prefix, 8).SequenceEqual(expected.Slice(prefix, 8))) prefix += 8;
            Span<byte> fresh = stackalloc byte[PageSize.Bytes];
            expected.CopyTo(fresh);
            if (inFlightPrevious is { } previous) FillExpected(expected, plan, inFlightPage, previous);
            else expected.Clear();
            // Applied once the write has stored a qword the page did not already hold (the stable ones it may have).
            applied = prefix > fresh.CommonPrefixLength(expected);
            ComparePage(actual, expected, prefix, index, plan.Vcpu, sink);
            MarkPage(known, plan, inFlightPage);
        }

        for (ulong p = 0; p < plan.SlicePages; p++)
        {
            if ((known[p >> 6] & (1UL << (int)(p & 63))) != 0) continue;
            var page = new PageIndex(plan.PageAt(p));
            CheckZero(ram.Page(page), page, 0, PageSize.Bytes, plan.Vcpu, sink);
        }
        return applied;
    }

    private static void FillExpected(Span<byte> page, in VcpuPlan plan, ulong pageNumber, ulong i) =>
        MixedPageContent.Fill(page, MixedPageContent.PageSeed(plan.Key, new PageIndex(pageNumber).Address.Value),
            WorkloadPrng.Hash(plan.Key, i), WorkloadPrng.Value(plan.ValueTag, i));

    /// <summary>Compares bytes [from, 4096) of a page; one mismatch (at the first differing qword) per page.</summary>
    private static void ComparePage(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> expected, int from, PageIndex page, int vcpu, MismatchSink sink)
    {
        int at = actual[from..PageSize.Bytes].CommonPrefixLength(expected[from..PageSize.Bytes]);
        if (from + at >= PageSize.Bytes) return;
        int offset = (from + at) & ~7;
        sink.Add(vcpu, page, offset, expected.Slice(offset, 8).ToArray(), actual.Slice(offset, 8).ToArray());
    }

    /// <summary>Marks a page of the slice as accounted for; false if it already was.</summary>
    private static bool MarkPage(ulong[] known, in VcpuPlan plan, ulong page)
    {
        ulong p = plan.SliceIndexOf(page);
        ref ulong word = ref known[p >> 6];
        ulong bit = 1UL << (int)(p & 63);
        if ((word & bit) != 0) return false;
        word |= bit;
        return true;
    }

    /// <summary>Marks (page, slot) as accounted for; false if it already was.</summary>
    private static bool MarkKnown(ulong[] known, in VcpuPlan plan, ulong page, int slot)
    {
        ulong pair = plan.SliceIndexOf(page) * WorkloadPrng.SlotsPerPage + (ulong)slot;
        ref ulong word = ref known[pair >> 6];
        ulong bit = 1UL << (int)(pair & 63);
        if ((word & bit) != 0) return false;
        word |= bit;
        return true;
    }

    private static void CheckZero(ReadOnlySpan<byte> page, PageIndex index, int offset, int length, int vcpu, MismatchSink sink)
    {
        ReadOnlySpan<byte> run = page.Slice(offset, length);
        int at = run.IndexOfAnyExcept((byte)0);
        if (at < 0) return;
        int start = offset + at;
        int shown = Math.Min(8, offset + length - start);
        sink.Add(vcpu, index, start, new byte[shown], page.Slice(start, shown).ToArray());
    }

    private static byte[] LittleEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>Keeps the first mismatches and counts them all.</summary>
    private sealed class MismatchSink(int limit)
    {
        public List<VerificationMismatch> First { get; } = [];
        public ulong Count { get; private set; }

        public void Add(int vcpu, PageIndex page, int offset, byte[] expected, byte[] actual)
        {
            Count++;
            if (First.Count < limit) First.Add(new VerificationMismatch(vcpu, page, offset, expected, actual));
        }
    }
}
