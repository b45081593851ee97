using Tern.Migration.Api;
using Tern.Memory;

namespace Tern.Migration.Engine;

/// <summary>
/// The RAM transfer counters of one migration, with QEMU's meanings. Incremented by the migration thread and the
/// channel writers; read by anyone (query-migrate) through <see cref="Snapshot"/>.
/// </summary>
public sealed class RamCounters
{
    private long normalPages, zeroPages, xbzrlePages, compressedPages, skippedPages;
    private long precopyBytes, downtimeBytes, multifdBytes;
    private long dirtySyncCount, dirtyPagesRate, remainingPages;
    private long passPagesPerSecond;
    private double mbps;
    private volatile bool paused;

    public RamCounters(ulong totalBytes) => TotalBytes = totalBytes;

    public ulong TotalBytes { get; }

    /// <summary>Whether bytes sent now count as downtime bytes (the guest is paused).</summary>
    public bool GuestPaused { get => paused; set => paused = value; }

    public void NormalPage() => Interlocked.Increment(ref normalPages);
    public void ZeroPage() => Interlocked.Increment(ref zeroPages);
    public void XbzrlePage() => Interlocked.Increment(ref xbzrlePages);
    public void CompressedPage() => Interlocked.Increment(ref compressedPages);
    /// <summary>A dirty page whose content equals what the destination holds: nothing to send.</summary>
    public void SkippedPage() => Interlocked.Increment(ref skippedPages);

    /// <summary>Adds counts an encoding thread kept by itself (see <c>PageTally</c>).</summary>
    public void AddPages(long normal, long zero, long xbzrle, long skipped)
    {
        if (normal != 0) Interlocked.Add(ref normalPages, normal);
        if (zero != 0) Interlocked.Add(ref zeroPages, zero);
        if (xbzrle != 0) Interlocked.Add(ref xbzrlePages, xbzrle);
        if (skipped != 0) Interlocked.Add(ref skippedPages, skipped);
    }

    /// <summary>Called by channel writers for every frame they put on the wire.</summary>
    public void BytesSent(int channel, long bytes)
    {
        if (paused) Interlocked.Add(ref downtimeBytes, bytes);
        else Interlocked.Add(ref precopyBytes, bytes);
        if (channel > 0) Interlocked.Add(ref multifdBytes, bytes);
    }

    public void DirtySync(long dirtyPagesPerSecond, long remaining)
    {
        Interlocked.Increment(ref dirtySyncCount);
        Interlocked.Exchange(ref dirtyPagesRate, dirtyPagesPerSecond);
        Interlocked.Exchange(ref remainingPages, remaining);
    }

    public void Remaining(long pages) => Interlocked.Exchange(ref remainingPages, pages);

    /// <summary>Bytes put on the wire after the post-copy switch (background stream and urgent lane).</summary>
    public void PostcopyBytesSent(long bytes) => Interlocked.Add(ref postcopyBytes, bytes);

    /// <summary>Page requests served after the post-copy switch (QEMU's postcopy-requests counts request messages).</summary>
    public void PostcopyRequest() => Interlocked.Increment(ref postcopyRequests);

    private long postcopyBytes, postcopyRequests;

    public void PassRates(double megabitsPerSecond, long pagesPerSecond)
    {
        Volatile.Write(ref mbps, megabitsPerSecond);
        Interlocked.Exchange(ref passPagesPerSecond, pagesPerSecond);
    }

    public long Transferred => Interlocked.Read(ref precopyBytes) + Interlocked.Read(ref downtimeBytes) + Interlocked.Read(ref postcopyBytes);
    public long PagesSent => Interlocked.Read(ref normalPages) + Interlocked.Read(ref zeroPages) + Interlocked.Read(ref xbzrlePages) + Interlocked.Read(ref compressedPages);
    public long DirtySyncCount => Interlocked.Read(ref dirtySyncCount);
    public long DirtyPagesRate => Interlocked.Read(ref dirtyPagesRate);
    public long RemainingPages => Interlocked.Read(ref remainingPages);
    public long ZeroPages => Interlocked.Read(ref zeroPages);
    public long NormalPages => Interlocked.Read(ref normalPages);
    public long XbzrlePages => Interlocked.Read(ref xbzrlePages);
    public long CompressedPages => Interlocked.Read(ref compressedPages);
    public long SkippedPages => Interlocked.Read(ref skippedPages);

    public RamStats Snapshot() => new()
    {
        Transferred = Transferred,
        Remaining = RemainingPages * PageSize.Bytes,
        Total = (long)TotalBytes,
        Duplicate = ZeroPages,
        Normal = NormalPages,
        NormalBytes = NormalPages * PageSize.Bytes,
        DirtyPagesRate = DirtyPagesRate,
        Mbps = Volatile.Read(ref mbps),
        DirtySyncCount = DirtySyncCount,
        PageSize = PageSize.Bytes,
        MultifdBytes = (ulong)Interlocked.Read(ref multifdBytes),
        PagesPerSecond = (ulong)Interlocked.Read(ref passPagesPerSecond),
        PrecopyBytes = (ulong)Interlocked.Read(ref precopyBytes),
        DowntimeBytes = (ulong)Interlocked.Read(ref downtimeBytes),
        PostcopyBytes = (ulong)Interlocked.Read(ref postcopyBytes),
        PostcopyRequests = Interlocked.Read(ref postcopyRequests),
    };
}
