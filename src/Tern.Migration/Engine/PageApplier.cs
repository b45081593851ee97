using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Memory.Postcopy;
using Tern.Migration.Protocol;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Engine;

/// <summary>
/// Writes received page records into guest RAM on the destination. Every record is checked before it is used: the
/// page must be inside RAM, the kind known, negotiated and not switched off by the source for this pass
/// (<see cref="CapabilitySchedule"/>), the length inside the payload and the page; XBZRLE and
/// compressed pages are decoded by code that never writes outside the page. A page that was never written and
/// arrives as zero is skipped (fresh guest RAM is zero, and touching it costs a page fault); whole pages for
/// consecutive guest pages go into RAM in one write through the memory's file where it takes one (no page fault, no
/// zeroing), else the first whole page of data into a chunk of RAM allocates the chunk in one call
/// (<see cref="FirstTouchPrefaulter"/>). Thread-safe for
/// different pages at once: each channel applies its own records with its own <see cref="ChannelDecoders"/>.
/// </summary>
internal sealed class PageApplier(IGuestMemory memory, CapabilitySchedule capabilities, ReceiveCounters counters)
{
    /// <summary>What the source has switched on and off; the main receive thread records each SetCapability here.</summary>
    public CapabilitySchedule Capabilities => capabilities;

    private readonly DirtyBitmap touched = new(memory.PageCount);

    /// <summary>The pages applied so far, each marked after its data is in RAM (for post-copy: what is still missing).</summary>
    public ReceivedPages Received { get; } = new(memory.PageCount);
    private readonly FirstTouchPrefaulter prefaulter = new(memory);

    /// <summary>Applies one Pages payload; returns the number of records.</summary>
    public uint Apply(ReadOnlySpan<byte> payload, ChannelDecoders decoders, out uint pass)
    {
        var r = new PayloadReader(MessageType.Pages, payload);
        pass = r.U32();
        uint count = r.U32();
        var allowed = capabilities.AllowedIn(pass);
        // Whole pages for consecutive guest pages are written together (WriteRun): where they lie in the payload.
        Span<int> run = stackalloc int[MaxRun];
        int runLength = 0;
        ulong runFirst = 0;
        for (uint i = 0; i < count; i++)
        {
            var (page, kind) = PageRecord.Split(r.U64());
            if (page >= memory.PageCount)
                throw new ProtocolException($"page record {i} of pass {pass} names page {page}, outside guest RAM ({memory.PageCount} pages)");
            if (kind == PageRecordKind.Normal)
            {
                if (runLength == MaxRun || (runLength > 0 && page != runFirst + (ulong)runLength))
                {
                    WriteRun(payload, runFirst, run[..runLength]);
                    runLength = 0;
                }
                if (runLength == 0) runFirst = page;
                run[runLength++] = r.Position;
                r.Bytes(PageSize.Bytes);
                continue;
            }
            // Records apply in order: the pages gathered so far land before this one.
            if (runLength > 0)
            {
                WriteRun(payload, runFirst, run[..runLength]);
                runLength = 0;
            }
            var index = new PageIndex(page);
            switch (kind)
            {
                case PageRecordKind.Zero:
                    if (touched.IsSet(index)) memory.GetSpan(index.Address, PageSize.Bytes).Clear();
                    Received.Mark(index);
                    counters.Zero();
                    break;
                case PageRecordKind.Xbzrle:
                    Require(allowed, ProtocolCapability.Xbzrle, kind, i, pass);
                    var delta = ReadEncoded(ref r, kind, i, pass);
                    // The delta applies on top of what this side holds: a page never written here is all zero.
                    var result = XbzrleDecoder.Decode(delta, memory.GetSpan(index.Address, PageSize.Bytes));
                    if (!result.IsSuccess)
                        throw new ProtocolException($"XBZRLE page record {i} of pass {pass} (page {page}) does not decode: {result.Describe()}");
                    touched.SetAtomic(index);
                    Received.Mark(index);
                    counters.Xbzrle();
                    break;
                default:
                    if (PageRecord.Codec(kind) is not { } codec)
                        throw new ProtocolException($"page record {i} of pass {pass} has unknown kind {(byte)kind}");
                    Require(allowed, codec.Capability, kind, i, pass);
                    var compressed = ReadEncoded(ref r, kind, i, pass);
                    var decoded = decoders.For(codec.Method).Decompress(compressed, memory.GetSpan(index.Address, PageSize.Bytes));
                    if (!decoded.Succeeded)
                        throw new ProtocolException($"{kind} page record {i} of pass {pass} (page {page}) does not decompress: {decoded.Failure}");
                    touched.SetAtomic(index);
                    Received.Mark(index);
                    counters.Compressed();
                    break;
            }
        }
        if (runLength > 0) WriteRun(payload, runFirst, run[..runLength]);
        r.End();
        return count;
    }

    /// <summary>A Pages frame holds at most 64 whole pages (<see cref="PageBatch.Capacity"/>), so one run is at most a frame.</summary>
    private const int MaxRun = 64;

    /// <summary>
    /// Writes whole pages first, first + 1, ... (each the 4 KiB at its offset in the payload). In one call through
    /// the memory's file where it can (<see cref="IGuestMemory.TryWritePages"/>: no page fault, no zeroing of fresh
    /// pages); otherwise page by page through the mapping, with fresh chunks allocated ahead (<see cref="FirstTouchPrefaulter"/>).
    /// </summary>
    private void WriteRun(ReadOnlySpan<byte> payload, ulong first, ReadOnlySpan<int> offsets)
    {
        if (!memory.TryWritePages(new PageIndex(first), payload, offsets))
        {
            for (int k = 0; k < offsets.Length; k++)
            {
                var index = new PageIndex(first + (ulong)k);
                if (!touched.IsSet(index)) prefaulter.BeforeFirstWrite(index);
                memory.WritePage(index, payload.Slice(offsets[k], PageSize.Bytes));
            }
        }
        // Marked received only now that the data is in RAM.
        for (int k = 0; k < offsets.Length; k++)
        {
            var index = new PageIndex(first + (ulong)k);
            touched.SetAtomic(index);
            Received.Mark(index);
            counters.Normal();
        }
    }

    private static ReadOnlySpan<byte> ReadEncoded(ref PayloadReader r, PageRecordKind kind, uint record, uint pass)
    {
        int length = r.U16();
        if (length is < 1 or > PageSize.Bytes)
            throw new ProtocolException($"{kind} page record {record} of pass {pass} claims {length} bytes (1 to {PageSize.Bytes} allowed)");
        return r.Bytes(length);
    }

    private void Require(ProtocolCapability allowed, ProtocolCapability capability, PageRecordKind kind, uint record, uint pass)
    {
        if ((allowed & capability) != 0) return;
        if ((capabilities.Negotiated & capability) == 0)
            throw new ProtocolException($"page record {record} of pass {pass} is {kind}, a capability that was not negotiated");
        throw new ProtocolException($"page record {record} of pass {pass} is {kind}, but the source switched " +
            $"{ProtocolCapabilities.Describe(capability)} off from pass {capabilities.SwitchedOffFrom(capability, pass)}");
    }
}
