namespace Tern.Os.Native;

/// <summary>
/// A native library Tern binds with <c>LibraryImport</c>: the soname it loads and the Debian package that ships it,
/// so that a missing library produces an error telling the operator exactly what to install.
/// </summary>
/// <param name="FileName">The soname passed to the loader, e.g. <c>libzstd.so.1</c>.</param>
/// <param name="DebianPackage">The Debian package that installs it, e.g. <c>libzstd1</c>.</param>
/// <param name="Purpose">What Tern uses it for, in the operator's words.</param>
public sealed record NativeLibraryInfo(string FileName, string DebianPackage, string Purpose)
{
    /// <summary>Zstandard: the default page codec.</summary>
    public static NativeLibraryInfo Zstd { get; } = new(ZstdInterop.Library, "libzstd1", "zstd page compression");

    /// <summary>LZ4: the fastest page codec.</summary>
    public static NativeLibraryInfo Lz4 { get; } = new(Lz4Interop.Library, "liblz4-1", "lz4 page compression");

    /// <summary>zlib: the page codec QEMU's compression uses.</summary>
    public static NativeLibraryInfo Zlib { get; } = new(ZlibInterop.Library, "zlib1g", "zlib page compression");

    /// <summary>xxHash: XXH3-64 for the end-to-end RAM digest.</summary>
    public static NativeLibraryInfo XxHash { get; } = new(XxHashInterop.Library, "libxxhash0", "the XXH3 RAM digest");
}
