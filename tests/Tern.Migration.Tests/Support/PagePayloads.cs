using Tern.Memory;
using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Support;

/// <summary>Page batch payloads (pass 1) as a source's channel sends them, for tests that feed a page applier directly.</summary>
internal static class PagePayloads
{
    /// <summary>A Normal record filled with its fill byte for each record that has one, a Zero record for the others.</summary>
    public static byte[] Of(params (ulong Page, byte? Fill)[] records) =>
        Of(records, fill => Enumerable.Repeat(fill, PageSize.Bytes).ToArray());

    /// <summary>A Normal record holding <paramref name="data"/>(fill) for each record that has a fill, a Zero record for the others.</summary>
    public static byte[] Of(IReadOnlyCollection<(ulong Page, byte? Fill)> records, Func<byte, byte[]> data)
    {
        var w = new PayloadWriter();
        w.U32(1);
        w.U32((uint)records.Count);
        foreach (var (page, fill) in records)
        {
            w.U64(PageRecord.Header(page, fill is null ? PageRecordKind.Zero : PageRecordKind.Normal));
            if (fill is { } b) w.Bytes(data(b));
        }
        return w.WrittenSpan.ToArray();
    }
}
