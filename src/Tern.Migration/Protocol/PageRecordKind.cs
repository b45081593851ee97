namespace Tern.Migration.Protocol;

/// <summary>
/// How a page travels, in the top byte of a page record's header word. Records inside a Pages payload:
/// <code>
/// u64 header = page index (bits 0-55) | kind (bits 56-63)
///   Normal:      4096 bytes of page
///   Zero:        nothing (the page is all zero bytes)
///   Xbzrle:      u16 length (1..4096) | XBZRLE delta against the destination's current page
///   Zstd, Lz4, Zlib:  u16 length (1..4096) | the page compressed with that codec
/// </code>
/// Each record names its own codec, so the source may switch codecs (or compression) between any two pages.
/// </summary>
public enum PageRecordKind : byte
{
    Normal = 0,
    Zero = 1,
    Xbzrle = 2,
    Zstd = 3,
    Lz4 = 4,
    Zlib = 5,
}

public static class PageRecord
{
    /// <summary>The record kind for pages compressed with <paramref name="method"/> (zstd, lz4, zlib).</summary>
    public static PageRecordKind KindFor(string method) => method switch
    {
        "zstd" => PageRecordKind.Zstd,
        "lz4" => PageRecordKind.Lz4,
        "zlib" => PageRecordKind.Zlib,
        _ => throw new ArgumentException($"unknown compression method '{method}'", nameof(method)),
    };

    /// <summary>The codec of a compressed record kind and the capability bit it needs.</summary>
    public static (string Method, ProtocolCapability Capability)? Codec(PageRecordKind kind) => kind switch
    {
        PageRecordKind.Zstd => ("zstd", ProtocolCapability.CompressZstd),
        PageRecordKind.Lz4 => ("lz4", ProtocolCapability.CompressLz4),
        PageRecordKind.Zlib => ("zlib", ProtocolCapability.CompressZlib),
        _ => null,
    };

    public const int HeaderSize = 8;
    public const int LengthSize = 2;
    public const ulong IndexMask = (1UL << 56) - 1;

    public static ulong Header(ulong page, PageRecordKind kind) => page | ((ulong)kind << 56);

    public static (ulong Page, PageRecordKind Kind) Split(ulong header) => (header & IndexMask, (PageRecordKind)(header >> 56));
}
