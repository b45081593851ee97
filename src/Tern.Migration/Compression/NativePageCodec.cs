using Tern.Os.Native;

namespace Tern.Migration.Compression;

/// <summary>
/// A page codec over one native library's compressor and decompressor (zstd, lz4 or zlib). The native contexts are
/// created on first use, so a codec used only to compress (source) or only to decompress (destination) holds only
/// one of them; the library itself is checked when the codec is created. Not thread-safe.
/// </summary>
internal sealed class NativePageCodec<TCompressor, TDecompressor> : IPageCodec
    where TCompressor : class, IBlockCompressor, new()
    where TDecompressor : class, IBlockDecompressor, new()
{
    private TCompressor? _compressor;
    private TDecompressor? _decompressor;

    public NativePageCodec(string name, NativeLibraryInfo library, int level)
    {
        var error = PageCodecOptions.Validate(name, level);
        if (error is not null) throw new ArgumentException(error);
        NativeLibraryLoader.Require(library);
        Name = name;
        Level = level;
    }

    public string Name { get; }

    public int Level { get; }

    public PageCompressResult Compress(ReadOnlySpan<byte> page, Span<byte> destination)
    {
        PageCodecArguments.CheckCompress(page, destination);
        _compressor ??= new TCompressor();
        // Capping the destination makes the library itself stop once the output is not worth sending.
        return _compressor.TryCompress(page, destination[..PageCodecLimits.MaxCompressedLength], Level, out var written)
            ? PageCompressResult.Compressed(written)
            : PageCompressResult.SendWhole;
    }

    public PageDecompressResult Decompress(ReadOnlySpan<byte> compressed, Span<byte> page)
    {
        var invalid = PageCodecArguments.CheckDecompress(Name, compressed, page);
        if (invalid is not null) return PageDecompressResult.Failed(invalid);
        _decompressor ??= new TDecompressor();
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
