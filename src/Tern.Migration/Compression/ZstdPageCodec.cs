using Tern.Os.Native;

namespace Tern.Migration.Compression;

/// <summary>
/// The <c>zstd</c> page codec over Tern.Os's ZstdCompressor and ZstdDecompressor. The native contexts are
/// created on first use, so a codec used only to compress (source) or only to decompress (destination) holds only
/// one of them; the library itself is checked when the codec is created. Not thread-safe.
/// </summary>
internal sealed class ZstdPageCodec : IPageCodec
{
    private ZstdCompressor? _compressor;
    private ZstdDecompressor? _decompressor;

    public ZstdPageCodec(int level)
    {
        var error = PageCodecOptions.Validate(PageCodecOptions.Zstd, level);
        if (error is not null) throw new ArgumentException(error);
        NativeLibraryLoader.Require(NativeLibraryInfo.Zstd);
        Level = level;
    }

    public string Name => PageCodecOptions.Zstd;

    public int Level { get; }

    public PageCompressResult Compress(ReadOnlySpan<byte> page, Span<byte> destination)
    {
        PageCodecArguments.CheckCompress(page, destination);
        _compressor ??= new ZstdCompressor();
        // Capping the destination makes the library itself stop once the output is not worth sending.
        return _compressor.TryCompress(page, destination[..PageCodecLimits.MaxCompressedLength], Level, out var written)
            ? PageCompressResult.Compressed(written)
            : PageCompressResult.SendWhole;
    }

    public PageDecompressResult Decompress(ReadOnlySpan<byte> compressed, Span<byte> page)
    {
        var invalid = PageCodecArguments.CheckDecompress(Name, compressed, page);
        if (invalid is not null) return PageDecompressResult.Failed(invalid);
        _decompressor ??= new ZstdDecompressor();
        var result = _decompressor.Decompress(compressed, page);
        return result.Succeeded ? PageDecompressResult.Success : PageDecompressResult.Failed(result.Error!);
    }

    public void Dispose()
    {
        _compressor?.Dispose();
        _decompressor?.Dispose();
    }

    public override string ToString() => $"{Name} level {Level}";
}
