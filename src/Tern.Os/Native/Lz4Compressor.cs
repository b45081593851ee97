using System.Diagnostics.CodeAnalysis;

namespace Tern.Os.Native;

/// <summary>
/// LZ4 block compression with reusable state. Not thread-safe: one per worker thread.
/// </summary>
/// <remarks>
/// <para>Levels follow the <c>lz4</c> command line: 1 and 2 use the fast compressor, 3 to 12 the high-compression
/// (HC) compressor at that level.</para>
/// <para>Why streams rather than <c>LZ4_compress_fast_extState</c>: that call needs a state buffer Tern would have to
/// allocate and align itself, and re-initialises all 16 KiB of it on every call. A stream that liblz4 allocates, reset
/// with <c>LZ4_resetStream_fast</c> before each page, invalidates the old table in O(1) and, having no dictionary,
/// still yields an independent block that <c>LZ4_decompress_safe</c> alone can decode. (Measured in C on this
/// machine, both run at about 600 MB/s on 4 KiB text pages: the choice is about ownership, not speed.) The HC state
/// (about 256 KiB) is created only when an HC level is first used.</para>
/// </remarks>
public sealed class Lz4Compressor : IBlockCompressor
{
    public const int MinLevel = 1;
    public const int MaxLevel = Lz4Interop.HighCompressionMaxLevel;

    /// <summary>Levels below this use the fast compressor.</summary>
    private const int FirstHighCompressionLevel = 3;

    private readonly Lz4StreamHandle _fast;
    private Lz4HighCompressionStreamHandle? _high;

    public Lz4Compressor()
    {
        NativeLibraryLoader.Require(NativeLibraryInfo.Lz4);
        _fast = Lz4Interop.LZ4_createStream();
        if (_fast.IsInvalid) throw new OutOfMemoryException("lz4: LZ4_createStream could not allocate a compression state");
    }

    /// <summary>
    /// Compresses <paramref name="source"/> into one independent LZ4 block in <paramref name="destination"/>.
    /// Returns false when the block would not fit in the destination.
    /// </summary>
    public unsafe bool TryCompress(ReadOnlySpan<byte> source, Span<byte> destination, int level, out int written)
    {
        ObjectDisposedException.ThrowIf(_fast.IsClosed, this);
        if (level is < MinLevel or > MaxLevel) ThrowBadLevel(level);
        // The spans are pinned for the call; lz4 reads srcSize bytes and writes at most dstCapacity bytes.
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            if (level < FirstHighCompressionLevel)
            {
                Lz4Interop.LZ4_resetStream_fast(_fast);
                written = Lz4Interop.LZ4_compress_fast_continue(_fast, src, dst, source.Length, destination.Length, acceleration: 1);
            }
            else
            {
                var high = HighCompressionStream();
                Lz4Interop.LZ4_resetStreamHC_fast(high, level);
                written = Lz4Interop.LZ4_compress_HC_continue(high, src, dst, source.Length, destination.Length);
            }
        }
        // lz4 signals "did not fit" with 0 and has no other failure for valid arguments.
        return written > 0 || source.IsEmpty;
    }

    /// <summary>Compresses and returns the block length; throws when it does not fit.</summary>
    public int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        if (!TryCompress(source, destination, level, out var written)) ThrowTooSmall(destination.Length);
        return written;
    }

    public void Dispose()
    {
        _fast.Dispose();
        _high?.Dispose();
    }

    private Lz4HighCompressionStreamHandle HighCompressionStream()
    {
        if (_high is null)
        {
            var created = Lz4Interop.LZ4_createStreamHC();
            if (created.IsInvalid) throw new OutOfMemoryException("lz4: LZ4_createStreamHC could not allocate a compression state");
            _high = created;
        }
        return _high;
    }

    [DoesNotReturn]
    private static void ThrowBadLevel(int level) =>
        throw new ArgumentOutOfRangeException(nameof(level), level, $"lz4 level must be between {MinLevel} and {MaxLevel}");

    [DoesNotReturn]
    private static void ThrowTooSmall(int capacity) =>
        throw new NativeCodecException("lz4", $"the compressed block does not fit in {capacity} bytes");
}
