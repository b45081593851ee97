using System.Runtime.InteropServices;

namespace Tern.Os.Native;

/// <summary>
/// The part of liblz4's stable block API Tern uses. Every size is a C <c>int</c>; compression returns 0 when the
/// output does not fit, <c>LZ4_decompress_safe</c> returns a negative number for malformed input and never writes
/// past <c>dstCapacity</c>.
/// </summary>
internal static unsafe partial class Lz4Interop
{
    public const string Library = "liblz4.so.1";

    /// <summary>LZ4HC_CLEVEL_MAX from lz4hc.h.</summary>
    public const int HighCompressionMaxLevel = 12;

    [LibraryImport(Library)]
    public static partial Lz4StreamHandle LZ4_createStream();

    [LibraryImport(Library)]
    public static partial int LZ4_freeStream(nint stream);

    /// <summary>Cheap reset that starts a new, independent chain of blocks (no dictionary).</summary>
    [LibraryImport(Library)]
    public static partial void LZ4_resetStream_fast(Lz4StreamHandle stream);

    [LibraryImport(Library)]
    public static partial int LZ4_compress_fast_continue(Lz4StreamHandle stream, byte* src, byte* dst, int srcSize, int dstCapacity, int acceleration);

    [LibraryImport(Library)]
    public static partial Lz4HighCompressionStreamHandle LZ4_createStreamHC();

    [LibraryImport(Library)]
    public static partial int LZ4_freeStreamHC(nint stream);

    [LibraryImport(Library)]
    public static partial void LZ4_resetStreamHC_fast(Lz4HighCompressionStreamHandle stream, int compressionLevel);

    [LibraryImport(Library)]
    public static partial int LZ4_compress_HC_continue(Lz4HighCompressionStreamHandle stream, byte* src, byte* dst, int srcSize, int maxDstSize);

    [LibraryImport(Library)]
    public static partial int LZ4_decompress_safe(byte* src, byte* dst, int compressedSize, int dstCapacity);
}
