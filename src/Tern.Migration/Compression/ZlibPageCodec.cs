using Tern.Os.Native;

namespace Tern.Migration.Compression;

/// <summary>
/// The <c>zlib</c> page codec over Tern.Os's ZlibCompressor and ZlibDecompressor. The native contexts are
/// created on first use, so a codec used only to compress (source) or only to decompress (destination) holds only
/// one of them; the library itself is checked when the codec is created. Not thread-safe.
/// </summary>
internal sealed class ZlibPageCodec : IPageCodec
{
    private ZlibCompressor? _compressor;
    private ZlibDecompressor? _decompressor;

    public ZlibPageCodec(int level)
    {
        var error = PageCodecOptions.Validate(PageCodecOptions.Zlib, level);
        if (error is not null) throw new ArgumentException(error);
        NativeLibraryLoader.Require(NativeLibraryInfo.Zlib);
        Level = level;
    }

    public string Name => PageCodecOptions.Zlib;

    public int Level { get; }

    public PageCompressResult Compress(ReadOnlySpan<byte> page, Span<byte> destination)
    {
        PageCodecArguments.CheckCompress(page, destination);
        _compressor ??= new ZlibCompressor();
        // Capping the destination makes the library itself stop once the output is not worth sending.
        return _compressor.TryCompress(page, destination[..PageCodecLimits.MaxCompressedLength], Level, out var written)
            ? PageCompressResult.Compressed(written)
            : PageCompressResult.SendWhole;
    }

    public PageDecompressResult Decompress(ReadOnlySpan<byte> compressed, Span<byte> page)
    {
        var invalid = PageCodecArguments.CheckDecompress(Name, compressed, page);
        if (invalid is not null) return PageDecompressResult.Failed(invalid);
        _decompressor ??= new ZlibDecompressor();
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
