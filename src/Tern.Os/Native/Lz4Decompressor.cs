namespace Tern.Os.Native;

/// <summary>
/// LZ4 block decompression of untrusted input. Stateless in liblz4; a class for symmetry with the other codecs.
/// </summary>
/// <remarks>
/// <c>LZ4_decompress_safe</c> is the variant documented as safe against malicious input: it never reads past
/// <c>compressedSize</c> nor writes past <c>dstCapacity</c>, and returns a negative number for a malformed block.
/// A block that decodes to fewer bytes than expected is a failure too.
/// </remarks>
public sealed class Lz4Decompressor : IBlockDecompressor
{
    private const string Codec = "lz4";

    public Lz4Decompressor() => NativeLibraryLoader.Require(NativeLibraryInfo.Lz4);

    /// <summary>Decompresses one block into <paramref name="destination"/>, which must come out exactly full.</summary>
    public unsafe DecodeResult Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.IsEmpty) return DecodeResult.Failure(Codec, "the compressed input is empty");
        int result;
        // The spans are pinned for the call; LZ4_decompress_safe stays inside both lengths.
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            result = Lz4Interop.LZ4_decompress_safe(src, dst, source.Length, destination.Length);
        }
        if (result < 0)
            return DecodeResult.Failure(Codec, $"malformed block (error at input offset {-(long)result - 1}), or it decompresses to more than {destination.Length} bytes");
        return result == destination.Length
            ? DecodeResult.Success
            : DecodeResult.Failure(Codec, $"decompressed {result} bytes, expected {destination.Length}");
    }

    public void Dispose()
    {
        // liblz4 keeps no decompression state.
    }
}
