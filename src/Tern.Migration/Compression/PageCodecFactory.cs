using Tern.Os.Native;

namespace Tern.Migration.Compression;

/// <summary>Makes page codecs by method name. Each call makes a new, independent instance for one thread.</summary>
public static class PageCodecFactory
{
    /// <summary>
    /// Creates a codec. Throws <see cref="Os.Native.NativeLibraryMissingException"/> at once if the codec's native
    /// library is not installed, rather than later on a worker thread.
    /// </summary>
    public static IPageCodec Create(PageCodecOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Method switch
        {
            PageCodecOptions.Zstd => new NativePageCodec<ZstdCompressor, ZstdDecompressor>(PageCodecOptions.Zstd, NativeLibraryInfo.Zstd, options.Level),
            PageCodecOptions.Lz4 => new NativePageCodec<Lz4Compressor, Lz4Decompressor>(PageCodecOptions.Lz4, NativeLibraryInfo.Lz4, options.Level),
            PageCodecOptions.Zlib => new NativePageCodec<ZlibCompressor, ZlibDecompressor>(PageCodecOptions.Zlib, NativeLibraryInfo.Zlib, options.Level),
            _ => throw new ArgumentException($"unknown compression method '{options.Method}'"),
        };
    }

    /// <summary>Validates <paramref name="method"/> and <paramref name="level"/>, then creates the codec.</summary>
    public static IPageCodec Create(string method, int level) => Create(new PageCodecOptions(method, level));
}
