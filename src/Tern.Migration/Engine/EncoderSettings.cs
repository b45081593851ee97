namespace Tern.Migration.Engine;

/// <summary>What the page encoder should do in the next pass, taken from the operator's settings and what was negotiated.</summary>
/// <param name="XbzrleThreads">Threads that encode XBZRLE: 1 is the migration thread itself; more are workers that
/// each own a part of the cache (used without compression only, and at most as many as the cache has shards).</param>
internal sealed record EncoderSettings(
    uint Pass,
    bool Xbzrle,
    ulong XbzrleCacheBytes,
    bool Compress,
    string CompressMethod,
    int CompressLevel,
    int CompressThreads,
    int XbzrleThreads = 1);
