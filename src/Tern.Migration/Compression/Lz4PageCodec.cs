using Tern.Os.Native;

namespace Tern.Migration.Compression;

/// <summary>
/// The <c>lz4</c> page codec over Tern.Os's Lz4Compressor and Lz4Decompressor. The native contexts are
/// created on first use, so a codec used only to compress (source) or only to decompress (destination) holds only
/// one of them; the library itself is checked when the codec is created. Not thread-safe.
/// </summary>
internal sealed class Lz4PageCodec : IPageCodec
{
    private Lz4Compressor? _compressor;
    private Lz4Decompressor? _decompressor;

    public Lz4PageCodec(int level)
    {
        var error = PageCodecOptions.Validate(PageCodecOptions.Lz4, level);
        if (error is not null) throw new ArgumentException(error);
        NativeLibraryLoader.Require(NativeLibraryInfo.Lz4);
        Level = level;
    }

    public string Name => PageCodecOptions.Lz4;

    public int Level { get; }

    public PageCompressResult Compress(ReadOnlySpan<byte> page, Span<byte> destination)
    {
        PageCodecArguments.CheckCompress(page, destination);
        _compressor ??= new Lz4Compressor();
        // Capping the destination makes the library itself stop once the output is not worth sending.
        return _compressor.TryCompress(page, destination[..PageCodecLimits.MaxCompressedLength], Level, out var written)
            ? PageCompressResult.Compressed(written)
            : PageCompressResult.SendWhole;
    }

    public PageDecompressResult Decompress(ReadOnlySpan<byte> compressed, Span<byte> page)
    {
        var invalid = PageCodecArguments.CheckDecompress(Name, compressed, page);
        if (invalid is not null) return PageDecompressResult.Failed(invalid);
        _decompressor ??= new Lz4Decompressor();
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
