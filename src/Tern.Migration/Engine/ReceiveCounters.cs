using Tern.Migration.Api;
using Tern.Memory;

namespace Tern.Migration.Engine;

/// <summary>What the destination has received, for its own query-migrate.</summary>
internal sealed class ReceiveCounters
{
    private long normal, zero, xbzrle, compressed;

    public void Normal() => Interlocked.Increment(ref normal);
    public void Zero() => Interlocked.Increment(ref zero);
    public void Xbzrle() => Interlocked.Increment(ref xbzrle);
    public void Compressed() => Interlocked.Increment(ref compressed);

    public long Records => Interlocked.Read(ref normal) + Interlocked.Read(ref zero) + Interlocked.Read(ref xbzrle) + Interlocked.Read(ref compressed);

    public RamStats Snapshot(long bytesReceived, ulong totalBytes) => new()
    {
        Transferred = bytesReceived,
        Total = (long)totalBytes,
        Duplicate = Interlocked.Read(ref zero),
        Normal = Interlocked.Read(ref normal),
        NormalBytes = Interlocked.Read(ref normal) * PageSize.Bytes,
        PageSize = PageSize.Bytes,
    };
}
