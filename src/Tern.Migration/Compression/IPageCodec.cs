namespace Tern.Migration.Compression;

/// <summary>
/// The operations table of a page codec, in the spirit of QEMU's multifd compression ops: a name, a level, and a
/// pure buffer-in/buffer-out compress and decompress for one guest page. Instances are NOT thread-safe: the
/// <see cref="PageCodecFactory"/> makes one per worker thread.
/// </summary>
/// <remarks>
/// Grammar of a compressed page: exactly one self-contained unit of the named codec (a zstd frame, an LZ4 block or a
/// zlib stream) that decompresses to exactly <see cref="Memory.PageSize.Bytes"/> bytes. Pages are independent of
/// each other, so any worker on either side can handle any page.
/// </remarks>
public interface IPageCodec : IDisposable
{
    /// <summary>The method name: <c>zstd</c>, <c>lz4</c> or <c>zlib</c>.</summary>
    string Name { get; }

    /// <summary>The compression level, already validated for this method.</summary>
    int Level { get; }

    /// <summary>
    /// Compresses one page (exactly 4096 bytes) into <paramref name="destination"/> (at least
    /// <see cref="PageCodecLimits.MaxCompressedLength"/> bytes). Returns <see cref="PageCompressResult.SendWhole"/>
    /// when the result would be longer than <see cref="PageCodecLimits.MaxCompressedLength"/>.
    /// </summary>
    PageCompressResult Compress(ReadOnlySpan<byte> page, Span<byte> destination);

    /// <summary>
    /// Decompresses untrusted <paramref name="compressed"/> bytes into <paramref name="page"/> (exactly 4096 bytes).
    /// Never throws for bad input and never writes outside <paramref name="page"/>; anything that does not decode to
    /// exactly one page is a failure with the reason.
    /// </summary>
    PageDecompressResult Decompress(ReadOnlySpan<byte> compressed, Span<byte> page);
}
