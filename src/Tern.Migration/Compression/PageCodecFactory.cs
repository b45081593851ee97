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
            PageCodecOptions.Zstd => new ZstdPageCodec(options.Level),
            PageCodecOptions.Lz4 => new Lz4PageCodec(options.Level),
            PageCodecOptions.Zlib => new ZlibPageCodec(options.Level),
            _ => throw new ArgumentException($"unknown compression method '{options.Method}'"),
        };
    }

    /// <summary>Validates <paramref name="method"/> and <paramref name="level"/>, then creates the codec.</summary>
    public static IPageCodec Create(string method, int level) => Create(new PageCodecOptions(method, level));
}
