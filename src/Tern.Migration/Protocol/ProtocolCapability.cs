using Tern.Migration.Api;

namespace Tern.Migration.Protocol;

/// <summary>
/// Capabilities as bits on the wire. The source offers what it can do, the destination answers with the subset it
/// can do too; only that subset is ever used. A new capability is a new bit: no management tool has to change.
/// </summary>
[Flags]
public enum ProtocolCapability : ulong
{
    None = 0,
    Xbzrle = 1 << 0,
    CompressZstd = 1 << 1,
    CompressLz4 = 1 << 2,
    CompressZlib = 1 << 3,
    Multifd = 1 << 4,
    Verify = 1 << 5,
    /// <summary>Post-copy: the guest may resume on the destination before all of RAM has arrived (docs/protocol.md).</summary>
    Postcopy = 1 << 6,
    /// <summary>Post-copy: the source may name the stale pages ahead of the pause (PostcopyDiscard, docs/protocol.md).</summary>
    PostcopyDiscard = 1 << 7,
    /// <summary>The destination says when each pass is applied (PassApplied, docs/protocol.md).</summary>
    PassApplied = 1 << 8,
}

public static class ProtocolCapabilities
{
    /// <summary>Everything this version of Tern implements.</summary>
    public const ProtocolCapability Supported =
        ProtocolCapability.Xbzrle | ProtocolCapability.CompressZstd | ProtocolCapability.CompressLz4 |
        ProtocolCapability.CompressZlib | ProtocolCapability.Multifd | ProtocolCapability.Verify | ProtocolCapability.Postcopy |
        ProtocolCapability.PostcopyDiscard | ProtocolCapability.PassApplied;

    public static ProtocolCapability ForCompressMethod(string method) => method switch
    {
        "zstd" => ProtocolCapability.CompressZstd,
        "lz4" => ProtocolCapability.CompressLz4,
        "zlib" => ProtocolCapability.CompressZlib,
        _ => throw new ArgumentException($"unknown compression method '{method}' (zstd, lz4 or zlib)", nameof(method)),
    };

    public static string? CompressMethod(ProtocolCapability capabilities) =>
        (capabilities & ProtocolCapability.CompressZstd) != 0 ? "zstd" :
        (capabilities & ProtocolCapability.CompressLz4) != 0 ? "lz4" :
        (capabilities & ProtocolCapability.CompressZlib) != 0 ? "zlib" : null;

    public static string Describe(ProtocolCapability capabilities) =>
        capabilities == ProtocolCapability.None ? "none" : capabilities.ToString().ToLowerInvariant().Replace(", ", ",", StringComparison.Ordinal);
}
