using System.Runtime.InteropServices;

namespace Tern.Os.Native;

/// <summary>
/// The part of zlib Tern uses: deflate and inflate with a caller-owned <c>z_stream</c> (see <see cref="ZStream"/>).
/// The <c>*Init2_</c> entry points take the library version and <c>sizeof(z_stream)</c>, and refuse a mismatch with
/// <see cref="VersionError"/>: a built-in check of <see cref="ZStream"/>'s layout.
/// </summary>
internal static unsafe partial class ZlibInterop
{
    public const string Library = "libz.so.1";

    public const int Ok = 0;
    public const int StreamEnd = 1;
    public const int NeedDictionary = 2;
    public const int StreamError = -2;
    public const int DataError = -3;
    public const int MemoryError = -4;
    public const int BufferError = -5;
    public const int VersionError = -6;

    public const int Finish = 4;
    public const int Deflated = 8;
    public const int DefaultStrategy = 0;

    /// <summary>A 32 KiB window with the zlib header and Adler-32 trailer (the format QEMU's compression uses).</summary>
    public const int WindowBits = 15;

    /// <summary>zlib's default memory level (8).</summary>
    public const int DefaultMemoryLevel = 8;

    [LibraryImport(Library)]
    public static partial byte* zlibVersion();

    [LibraryImport(Library)]
    public static partial int deflateInit2_(ZStream* strm, int level, int method, int windowBits, int memLevel, int strategy, byte* version, int streamSize);

    [LibraryImport(Library)]
    public static partial int deflate(ZStream* strm, int flush);

    [LibraryImport(Library)]
    public static partial int deflateReset(ZStream* strm);

    [LibraryImport(Library)]
    public static partial int deflateParams(ZStream* strm, int level, int strategy);

    [LibraryImport(Library)]
    public static partial int deflateEnd(ZStream* strm);

    [LibraryImport(Library)]
    public static partial int inflateInit2_(ZStream* strm, int windowBits, byte* version, int streamSize);

    [LibraryImport(Library)]
    public static partial int inflate(ZStream* strm, int flush);

    [LibraryImport(Library)]
    public static partial int inflateReset(ZStream* strm);

    [LibraryImport(Library)]
    public static partial int inflateEnd(ZStream* strm);

    /// <summary>Returns a static string describing a zlib return code.</summary>
    [LibraryImport(Library)]
    public static partial byte* zError(int code);

    /// <summary>The stream's own message if zlib set one (more specific), else the return code's description.</summary>
    public static string Describe(ZStream* strm, int code)
    {
        var message = strm is null ? null : strm->Msg;
        if (message is null) message = zError(code);
        return message is null ? $"error {code}" : Marshal.PtrToStringUTF8((nint)message) ?? $"error {code}";
    }
}
