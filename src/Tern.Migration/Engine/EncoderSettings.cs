namespace Tern.Migration.Engine;

/// <summary>What the page encoder should do in the next pass, taken from the operator's settings and what was negotiated.</summary>
internal sealed record EncoderSettings(
    uint Pass,
    bool Xbzrle,
    ulong XbzrleCacheBytes,
    bool Compress,
    string CompressMethod,
    int CompressLevel,
    int CompressThreads);
