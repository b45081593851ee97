namespace Tern.Os.Native;

/// <summary>
/// Zstandard decompression of untrusted input with one reusable <c>ZSTD_DCtx</c>. Not thread-safe: one per worker.
/// </summary>
/// <remarks>
/// Safe against hostile input: libzstd never writes past the capacity it is given, which is exactly the expected
/// length; one-shot decompression into a flat buffer allocates no window, whatever window size a frame declares; and
/// any result other than exactly the expected length is a failure.
/// </remarks>
public sealed class ZstdDecompressor : IBlockDecompressor
{
    private const string Codec = "zstd";
    private readonly ZstdDecompressionContextHandle _context;

    public ZstdDecompressor()
    {
        NativeLibraryLoader.Require(NativeLibraryInfo.Zstd);
        _context = ZstdInterop.ZSTD_createDCtx();
        if (_context.IsInvalid) throw new OutOfMemoryException("zstd: ZSTD_createDCtx could not allocate a decompression context");
    }

    /// <summary>
    /// Decompresses <paramref name="source"/> (one or more frames) into <paramref name="destination"/>, which must come
    /// out exactly full. Never throws for bad input.
    /// </summary>
    public unsafe DecodeResult Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_context.IsClosed, this);
        if (source.IsEmpty) return DecodeResult.Failure(Codec, "the compressed input is empty");
        nuint result;
        // The spans are pinned for the call; zstd reads only srcSize bytes and writes at most dstCapacity bytes.
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            result = ZstdInterop.ZSTD_decompressDCtx(_context, dst, (nuint)destination.Length, src, (nuint)source.Length);
        }
        if (ZstdInterop.IsError(result))
        {
            return ZstdInterop.ZSTD_getErrorCode(result) == ZstdInterop.ErrorDestinationTooSmall
                ? DecodeResult.Failure(Codec, $"the data decompresses to more than the expected {destination.Length} bytes")
                : DecodeResult.Failure(Codec, ZstdInterop.ErrorName(result));
        }
        return result == (nuint)destination.Length
            ? DecodeResult.Success
            : DecodeResult.Failure(Codec, $"decompressed {result} bytes, expected {destination.Length}");
    }

    public void Dispose() => _context.Dispose();
}
