using Tern.Memory;
using Tern.Migration.Api;

namespace Tern.Migration.Compression;

/// <summary>
/// QEMU's compression counters for one migration. The pipeline's owner thread is the only writer (plain increments
/// published with volatile writes, so any thread may read them); <see cref="Snapshot"/> turns them into the QAPI
/// <see cref="CompressionStats"/>, with the rates computed over the interval since the previous snapshot, as QEMU
/// does once per iteration.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>pages</c>: pages the workers compressed (including those that turned out not worth it and were sent whole).</item>
/// <item><c>busy</c>: submissions that found their worker's queue full.</item>
/// <item><c>busy-rate</c>: busy ÷ pages offered to the pipeline, over the interval.</item>
/// <item><c>compressed-size</c>: bytes those pages took on the wire: the compressed length, or 4096 for a page sent
/// whole, so that the rate below is the honest saving.</item>
/// <item><c>compression-rate</c>: (pages × 4096) ÷ compressed-size, over the interval.</item>
/// </list>
/// </remarks>
public sealed class CompressionCounters
{
    private readonly Lock _snapshotGate = new();
    private long _offered;
    private long _busy;
    private long _pages;
    private long _compressedSize;
    private long _sentWhole;
    private (long Offered, long Busy, long Pages, long Size) _previous;
    private CompressionStats? _latest;

    /// <summary>Pages offered to the pipeline, whether it took them or not.</summary>
    public long Offered => Volatile.Read(ref _offered);

    public long Busy => Volatile.Read(ref _busy);

    public long Pages => Volatile.Read(ref _pages);

    public long CompressedSize => Volatile.Read(ref _compressedSize);

    /// <summary>Of <see cref="Pages"/>, those that did not compress well enough and went on the wire whole.</summary>
    public long SentWhole => Volatile.Read(ref _sentWhole);

    /// <summary>The stats from the last <see cref="Snapshot"/>, for readers such as <c>query-migrate</c>.</summary>
    public CompressionStats? Latest => Volatile.Read(ref _latest);

    /// <summary>Stats now: totals, and rates over the interval since the previous snapshot (0 when nothing happened).</summary>
    public CompressionStats Snapshot()
    {
        lock (_snapshotGate)
        {
            var now = (Offered, Busy, Pages, CompressedSize);
            var offered = now.Offered - _previous.Offered;
            var pages = now.Pages - _previous.Pages;
            var size = now.CompressedSize - _previous.Size;
            var stats = new CompressionStats
            {
                Pages = now.Pages,
                Busy = now.Busy,
                CompressedSize = now.CompressedSize,
                // An interval with nothing in it (a tiny final pass) keeps the last measured rate, as QEMU does for
                // compression-rate: an operator wants the ratio, not a zero that only says "nothing happened".
                BusyRate = offered == 0 ? (_latest?.BusyRate ?? 0) : (double)(now.Busy - _previous.Busy) / offered,
                CompressionRate = size == 0 ? (_latest?.CompressionRate ?? 0) : (double)pages * PageSize.Bytes / size,
            };
            _previous = now;
            Volatile.Write(ref _latest, stats);
            return stats;
        }
    }

    // Owner thread only: single writer, so a read-increment-publish needs no interlocked operation.
    internal void RecordOffered() => Volatile.Write(ref _offered, _offered + 1);

    internal void RecordBusy() => Volatile.Write(ref _busy, _busy + 1);

    internal void RecordCompressed(int length)
    {
        Volatile.Write(ref _compressedSize, _compressedSize + length);
        Volatile.Write(ref _pages, _pages + 1);
    }

    internal void RecordSentWhole()
    {
        Volatile.Write(ref _sentWhole, _sentWhole + 1);
        RecordCompressed(PageSize.Bytes);
    }
}
