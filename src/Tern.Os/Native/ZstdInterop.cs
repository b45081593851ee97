using System.Runtime.InteropServices;

namespace Tern.Os.Native;

/// <summary>
/// The part of libzstd's stable API Tern uses: one-shot compression and decompression with reusable contexts.
/// Sizes are <c>size_t</c> (<see cref="nuint"/>); a result is an error when <c>ZSTD_isError</c> says so.
/// </summary>
internal static unsafe partial class ZstdInterop
{
    public const string Library = "libzstd.so.1";

    /// <summary><c>ZSTD_error_dstSize_tooSmall</c> from zstd_errors.h: the output did not fit.</summary>
    public const int ErrorDestinationTooSmall = 70;

    [LibraryImport(Library)]
    public static partial ZstdCompressionContextHandle ZSTD_createCCtx();

    [LibraryImport(Library)]
    public static partial nuint ZSTD_freeCCtx(nint cctx);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_compressCCtx(ZstdCompressionContextHandle cctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int compressionLevel);

    [LibraryImport(Library)]
    public static partial ZstdDecompressionContextHandle ZSTD_createDCtx();

    [LibraryImport(Library)]
    public static partial nuint ZSTD_freeDCtx(nint dctx);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_decompressDCtx(ZstdDecompressionContextHandle dctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);

    [LibraryImport(Library)]
    public static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Library)]
    public static partial int ZSTD_getErrorCode(nuint code);

    /// <summary>Returns a pointer to a static, NUL-terminated string: never freed.</summary>
    [LibraryImport(Library)]
    public static partial byte* ZSTD_getErrorName(nuint code);

    [LibraryImport(Library)]
    public static partial int ZSTD_minCLevel();

    [LibraryImport(Library)]
    public static partial int ZSTD_maxCLevel();

    [LibraryImport(Library)]
    public static partial nuint ZSTD_compressBound(nuint srcSize);

    public static bool IsError(nuint code) => ZSTD_isError(code) != 0;

    public static string ErrorName(nuint code)
    {
        // The name is a static string inside libzstd, valid for the life of the process.
        var name = ZSTD_getErrorName(code);
        return name is null ? $"error {ZSTD_getErrorCode(code)}" : Marshal.PtrToStringUTF8((nint)name) ?? "unknown error";
    }
}
