using Tern.Memory;
using Tern.Migration.Api;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// XBZRLE counters with QEMU's meanings, which the engine increments as it sends pages (from several threads if it
/// likes: increments are atomic) and which <see cref="Snapshot"/> turns into <see cref="XbzrleCacheStats"/>.
/// Rates are over the interval since the previous snapshot, as QEMU computes them once per iteration:
/// cache-miss-rate = misses / lookups, encoding-rate = (XBZRLE pages × 4096) / XBZRLE bytes (0 when no page was
/// encoded in the interval).
/// </summary>
public sealed class XbzrleCounters
{
    /// <summary>QEMU's per-page XBZRLE header on the wire: 1 byte of encoding flag, 2 bytes of length.</summary>
    public const int QemuHeaderBytes = 3;

    private long _pages;
    private long _bytes;
    private long _lookups;
    private long _misses;
    private long _overflows;

    // Totals at the previous snapshot, for the interval rates. Guarded by _snapshotLock: snapshots are rare.
    private readonly Lock _snapshotLock = new();
    private long _pagesAtSnapshot;
    private long _bytesAtSnapshot;
    private long _lookupsAtSnapshot;
    private long _missesAtSnapshot;
    private XbzrleCacheStats? _latest;

    /// <summary>A cache lookup that found the page.</summary>
    public void RecordHit() => Interlocked.Increment(ref _lookups);

    /// <summary>A cache lookup that did not find the page (QEMU's cache-miss).</summary>
    public void RecordMiss()
    {
        Interlocked.Increment(ref _lookups);
        Interlocked.Increment(ref _misses);
    }

    /// <summary>
    /// A page sent as XBZRLE: <paramref name="wireBytes"/> is what its encoding cost on the wire, which QEMU counts
    /// as the encoded length plus <see cref="QemuHeaderBytes"/>.
    /// </summary>
    public void RecordEncodedPage(long wireBytes)
    {
        Interlocked.Increment(ref _pages);
        Interlocked.Add(ref _bytes, wireBytes);
    }

    /// <summary>An encoding that did not fit in a page: the page goes whole, and QEMU adds a page to the XBZRLE bytes.</summary>
    public void RecordOverflow()
    {
        Interlocked.Increment(ref _overflows);
        Interlocked.Add(ref _bytes, PageSize.Bytes);
    }

    /// <summary>
    /// Adds what one encoding thread counted by itself: <paramref name="hits"/> and <paramref name="misses"/> lookups,
    /// <paramref name="pages"/> encoded pages, <paramref name="bytes"/> XBZRLE bytes as <see cref="RecordEncodedPage"/>
    /// and <see cref="RecordOverflow"/> count them, and <paramref name="overflows"/>.
    /// </summary>
    public void Add(long hits, long misses, long pages, long bytes, long overflows)
    {
        if (hits + misses != 0) Interlocked.Add(ref _lookups, hits + misses);
        if (misses != 0) Interlocked.Add(ref _misses, misses);
        if (pages != 0) Interlocked.Add(ref _pages, pages);
        if (bytes != 0) Interlocked.Add(ref _bytes, bytes);
        if (overflows != 0) Interlocked.Add(ref _overflows, overflows);
    }

    public long Pages => Interlocked.Read(ref _pages);
    public long Bytes => Interlocked.Read(ref _bytes);
    public long Lookups => Interlocked.Read(ref _lookups);
    public long Misses => Interlocked.Read(ref _misses);
    public long Overflows => Interlocked.Read(ref _overflows);

    /// <summary>
    /// Totals so far, with the rates over the interval since the previous call (or since the start), and
    /// <paramref name="cacheSizeBytes"/> as cache-size.
    /// </summary>
    public XbzrleCacheStats Snapshot(ulong cacheSizeBytes)
    {
        lock (_snapshotLock)
        {
            long pages = Pages, bytes = Bytes, lookups = Lookups, misses = Misses;
            long intervalPages = pages - _pagesAtSnapshot;
            long intervalBytes = bytes - _bytesAtSnapshot;
            long intervalLookups = lookups - _lookupsAtSnapshot;
            long intervalMisses = misses - _missesAtSnapshot;
            _pagesAtSnapshot = pages;
            _bytesAtSnapshot = bytes;
            _lookupsAtSnapshot = lookups;
            _missesAtSnapshot = misses;
            // An interval without lookups or encoded pages (a tiny final pass) keeps the last measured rates.
            _latest = new XbzrleCacheStats
            {
                CacheSize = cacheSizeBytes,
                Bytes = bytes,
                Pages = pages,
                CacheMiss = misses,
                CacheMissRate = intervalLookups == 0 ? (_latest?.CacheMissRate ?? 0) : (double)intervalMisses / intervalLookups,
                EncodingRate = intervalPages == 0 || intervalBytes == 0 ? (_latest?.EncodingRate ?? 0) : (double)intervalPages * PageSize.Bytes / intervalBytes,
                Overflow = Overflows,
            };
            return _latest;
        }
    }
}
