using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Pages;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// Turns dirty pages into page records: zero pages become a marker, others go whole. The zero check reads guest
/// memory in place: if the guest writes the page right after, its dirty bit is already set (tracking started before
/// the first read), so a later pass sends it again.
/// </summary>
internal sealed class SourcePageEncoder(IGuestMemory memory, RamCounters counters)
{
    /// <summary>Bytes of non-zero page records produced so far (for the cost-per-page estimate).</summary>
    public long NonZeroBytes { get; private set; }
    public long NonZeroPages { get; private set; }

    /// <summary>
    /// Pages known to be populated; any other page is a never-touched hole and is sent as zero without being read
    /// (reading would allocate it). Set for the first pass only.
    /// </summary>
    public DirtyBitmap? Populated { get; set; }

    public void Encode(PageIndex page, PageBatch batch)
    {
        if (Populated is { } populated && !populated.IsSet(page))
        {
            batch.AppendZero(page);
            counters.ZeroPage();
            return;
        }
        var live = memory.GetSpan(page.Address, PageSize.Bytes);
        if (ZeroPage.IsZero(live))
        {
            batch.AppendZero(page);
            counters.ZeroPage();
            return;
        }
        live.CopyTo(batch.AppendNormal(page));
        counters.NormalPage();
        NonZeroPages++;
        NonZeroBytes += PageRecord.HeaderSize + PageSize.Bytes;
    }

    /// <summary>Puts pages still being encoded into <paramref name="batch"/> (none: this encoder finishes each page at once).</summary>
    public void Flush(PageBatch batch)
    {
    }
}
