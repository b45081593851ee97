using System.Diagnostics.CodeAnalysis;
using Tern.Memory;

namespace Tern.Migration.Compression;

/// <summary>Argument checks shared by the page codecs, with the throws kept off the hot path.</summary>
internal static class PageCodecArguments
{
    public static void CheckCompress(ReadOnlySpan<byte> page, Span<byte> destination)
    {
        if (page.Length != PageSize.Bytes) ThrowPageLength(page.Length);
        if (destination.Length < PageCodecLimits.MaxCompressedLength) ThrowDestinationLength(destination.Length);
    }

    /// <summary>
    /// Checks the caller's page buffer (a bug if wrong) and returns a failure for an over-long input (hostile or
    /// corrupt data, so not an exception), or null when decompression may go ahead.
    /// </summary>
    public static string? CheckDecompress(string codec, ReadOnlySpan<byte> compressed, Span<byte> page)
    {
        if (page.Length != PageSize.Bytes) ThrowPageLength(page.Length);
        if (compressed.Length > PageCodecLimits.MaxCompressedLength)
            return $"{codec}: a compressed page of {compressed.Length} bytes exceeds the {PageCodecLimits.MaxCompressedLength}-byte limit";
        return null;
    }

    [DoesNotReturn]
    private static void ThrowPageLength(int length) =>
        throw new ArgumentException($"a page buffer must be exactly {PageSize.Bytes} bytes, not {length}");

    [DoesNotReturn]
    private static void ThrowDestinationLength(int length) =>
        throw new ArgumentException($"the destination must hold at least {PageCodecLimits.MaxCompressedLength} bytes, not {length}");
}
