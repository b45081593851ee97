using Tern.Memory;

namespace Tern.Migration.Compression;

/// <summary>When a compressed page is worth sending compressed.</summary>
public static class PageCodecLimits
{
    /// <summary>
    /// Bytes a compressed page must save, at least, to be sent compressed: 128, so a compressed page is at most
    /// 3,968 bytes. Below that saving the decompression work on the destination is not worth the few bytes, and a
    /// page that barely shrinks (random or already-compressed data) is sent whole as a normal page.
    /// </summary>
    public const int MinimumSaving = 128;

    /// <summary>The longest compressed page Tern sends or accepts: 4096 - 128 = 3,968 bytes.</summary>
    public const int MaxCompressedLength = PageSize.Bytes - MinimumSaving;
}
