using System.Diagnostics.CodeAnalysis;

namespace Tern.Os.Native;

/// <summary>
/// zlib (deflate, zlib format) compression with one reusable deflate stream. Not thread-safe: one per worker.
/// Each call produces one complete, independent zlib stream.
/// </summary>
/// <remarks>
/// Why a reusable stream rather than <c>compress2</c>: <c>compress2</c> runs deflateInit/deflateEnd on every call,
/// which mallocs and frees about 270 KiB of window and hash tables per 4 KiB page. <c>deflateReset</c> keeps them
/// and only clears the hash heads. Measured in C on this machine for 4 KiB pages at level 1: text 85 MB/s with a
/// reset stream against 19 MB/s with compress2, random 28 against 16. <c>deflateParams</c> switches level when a call
/// asks for a different one.
/// </remarks>
public sealed class ZlibCompressor : IBlockCompressor
{
    public const int MinLevel = 1;
    public const int MaxLevel = 9;
    private const int InitialLevel = 1;

    private readonly ZlibStreamHandle _stream;
    private int _level = InitialLevel;

    public ZlibCompressor()
    {
        NativeLibraryLoader.Require(NativeLibraryInfo.Zlib);
        _stream = ZlibStreamHandle.CreateDeflate(InitialLevel);
    }

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="destination"/>; returns false when the stream would
    /// not fit. Throws <see cref="NativeCodecException"/> for any other zlib error.
    /// </summary>
    public unsafe bool TryCompress(ReadOnlySpan<byte> source, Span<byte> destination, int level, out int written)
    {
        ObjectDisposedException.ThrowIf(_stream.IsClosed, this);
        if (level is < MinLevel or > MaxLevel) ThrowBadLevel(level);
        var z = _stream.Stream;
        Check(ZlibInterop.deflateReset(z), z, "deflateReset");
        if (level != _level)
        {
            Check(ZlibInterop.deflateParams(z, level, ZlibInterop.DefaultStrategy), z, "deflateParams");
            _level = level;
        }
        int code = _stream.Finish(source, destination);
        if (code == ZlibInterop.StreamEnd)
        {
            written = (int)z->TotalOut;
            return true;
        }
        written = 0;
        // Z_OK or Z_BUF_ERROR after Z_FINISH: the output buffer filled up before the stream ended.
        if (code is ZlibInterop.Ok or ZlibInterop.BufferError) return false;
        ThrowCodecError(z, code, "deflate");
        return false;
    }

    /// <summary>Compresses and returns the stream length; throws when it does not fit.</summary>
    public int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        if (!TryCompress(source, destination, level, out var written)) ThrowTooSmall(destination.Length);
        return written;
    }

    public void Dispose() => _stream.Dispose();

    private static unsafe void Check(int code, ZStream* z, string call)
    {
        if (code != ZlibInterop.Ok) ThrowCodecError(z, code, call);
    }

    [DoesNotReturn]
    private static unsafe void ThrowCodecError(ZStream* z, int code, string call) =>
        throw new NativeCodecException("zlib", $"{call}: {ZlibInterop.Describe(z, code)}");

    [DoesNotReturn]
    private static void ThrowBadLevel(int level) =>
        throw new ArgumentOutOfRangeException(nameof(level), level, $"zlib level must be between {MinLevel} and {MaxLevel}");

    [DoesNotReturn]
    private static void ThrowTooSmall(int capacity) =>
        throw new NativeCodecException("zlib", $"the compressed stream does not fit in {capacity} bytes");
}
