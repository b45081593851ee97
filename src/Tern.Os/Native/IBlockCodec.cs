namespace Tern.Os.Native;

/// <summary>A reusable compression context of one native library (not thread-safe).</summary>
public interface IBlockCompressor : IDisposable
{
    /// <summary>Compresses <paramref name="source"/>; false when the result does not fit <paramref name="destination"/>.</summary>
    bool TryCompress(ReadOnlySpan<byte> source, Span<byte> destination, int level, out int written);
}

/// <summary>A reusable decompression context of one native library (not thread-safe), safe against hostile input.</summary>
public interface IBlockDecompressor : IDisposable
{
    /// <summary>Decompresses into exactly <paramref name="destination"/>; anything else is a failure with the library's reason.</summary>
    DecodeResult Decompress(ReadOnlySpan<byte> source, Span<byte> destination);
}
