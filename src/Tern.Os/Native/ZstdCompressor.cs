using System.Diagnostics.CodeAnalysis;

namespace Tern.Os.Native;

/// <summary>
/// Zstandard compression with one reusable <c>ZSTD_CCtx</c>: reusing the context keeps its tables and workspace
/// between calls, which matters when every call is a single 4 KiB page. Not thread-safe: one per worker thread.
/// Each call produces one complete, independent zstd frame.
/// </summary>
public sealed class ZstdCompressor : IBlockCompressor
{
    private readonly ZstdCompressionContextHandle _context;
    // Read once: validating the level must not cost two native calls per page.
    private readonly int _minLevel;
    private readonly int _maxLevel;

    public ZstdCompressor()
    {
        NativeLibraryLoader.Require(NativeLibraryInfo.Zstd);
        _minLevel = MinLevel;
        _maxLevel = MaxLevel;
        _context = ZstdInterop.ZSTD_createCCtx();
        if (_context.IsInvalid) throw new OutOfMemoryException("zstd: ZSTD_createCCtx could not allocate a compression context");
    }

    /// <summary>The lowest level libzstd accepts (negative levels are its fast modes).</summary>
    public static int MinLevel => ZstdInterop.ZSTD_minCLevel();

    /// <summary>The highest level libzstd accepts (22 in current releases).</summary>
    public static int MaxLevel => ZstdInterop.ZSTD_maxCLevel();

    /// <summary>The largest frame <paramref name="sourceLength"/> bytes can compress to.</summary>
    public static int CompressBound(int sourceLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sourceLength);
        return checked((int)ZstdInterop.ZSTD_compressBound((nuint)sourceLength));
    }

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="destination"/>. Returns false (and writes nothing
    /// the caller should use) when the frame would not fit: give a smaller destination to cap the output size.
    /// Throws <see cref="NativeCodecException"/> for any other zstd error.
    /// </summary>
    public unsafe bool TryCompress(ReadOnlySpan<byte> source, Span<byte> destination, int level, out int written)
    {
        ObjectDisposedException.ThrowIf(_context.IsClosed, this);
        ValidateLevel(level);
        nuint result;
        // The spans are pinned for the call; zstd reads only srcSize bytes and writes at most dstCapacity bytes.
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            result = ZstdInterop.ZSTD_compressCCtx(_context, dst, (nuint)destination.Length, src, (nuint)source.Length, level);
        }
        if (ZstdInterop.IsError(result))
        {
            written = 0;
            if (ZstdInterop.ZSTD_getErrorCode(result) == ZstdInterop.ErrorDestinationTooSmall) return false;
            ThrowCodecError(result);
        }
        written = (int)result;
        return true;
    }

    /// <summary>Compresses and returns the frame length; throws when it does not fit.</summary>
    public int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        if (!TryCompress(source, destination, level, out var written)) ThrowTooSmall(destination.Length);
        return written;
    }

    public void Dispose() => _context.Dispose();

    private void ValidateLevel(int level)
    {
        if (level < _minLevel || level > _maxLevel) ThrowBadLevel(level, _minLevel, _maxLevel);
    }

    [DoesNotReturn]
    private static void ThrowBadLevel(int level, int min, int max) =>
        throw new ArgumentOutOfRangeException(nameof(level), level, $"zstd level must be between {min} and {max}");

    [DoesNotReturn]
    private static void ThrowCodecError(nuint code) => throw new NativeCodecException("zstd", ZstdInterop.ErrorName(code));

    [DoesNotReturn]
    private static void ThrowTooSmall(int capacity) =>
        throw new NativeCodecException("zstd", $"the compressed frame does not fit in {capacity} bytes");
}
