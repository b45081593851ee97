namespace Tern.Os.Native;

/// <summary>
/// zlib decompression of untrusted input with one reusable inflate stream. Not thread-safe: one per worker.
/// </summary>
/// <remarks>
/// Safe against hostile input: inflate writes at most <c>avail_out</c> bytes (the expected length), checks the
/// Adler-32 trailer, and Tern accepts only a stream that ends exactly when the destination is full and the input is
/// used up.
/// </remarks>
public sealed class ZlibDecompressor : IBlockDecompressor
{
    private const string Codec = "zlib";
    private readonly ZlibStreamHandle _stream;

    public ZlibDecompressor()
    {
        NativeLibraryLoader.Require(NativeLibraryInfo.Zlib);
        _stream = ZlibStreamHandle.CreateInflate();
    }

    /// <summary>Decompresses one zlib stream into <paramref name="destination"/>, which must come out exactly full.</summary>
    public unsafe DecodeResult Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_stream.IsClosed, this);
        if (source.IsEmpty) return DecodeResult.Failure(Codec, "the compressed input is empty");
        var z = _stream.Stream;
        var reset = ZlibInterop.inflateReset(z);
        if (reset != ZlibInterop.Ok) return DecodeResult.Failure(Codec, $"inflateReset: {ZlibInterop.Describe(z, reset)}");
        int code = _stream.Finish(source, destination);
        var produced = (long)z->TotalOut;
        switch (code)
        {
            case ZlibInterop.StreamEnd when produced != destination.Length:
                return DecodeResult.Failure(Codec, $"decompressed {produced} bytes, expected {destination.Length}");
            case ZlibInterop.StreamEnd when z->AvailIn != 0:
                return DecodeResult.Failure(Codec, $"{z->AvailIn} bytes of trailing data after the end of the stream");
            case ZlibInterop.StreamEnd:
                return DecodeResult.Success;
            // Both mean inflate stopped early: it used up the input (truncated) or filled the destination (too long).
            case ZlibInterop.BufferError or ZlibInterop.Ok when z->AvailIn == 0:
                return DecodeResult.Failure(Codec, $"the input ends before the end of the stream ({produced} bytes decompressed)");
            case ZlibInterop.BufferError or ZlibInterop.Ok:
                return DecodeResult.Failure(Codec, $"the data decompresses to more than the expected {destination.Length} bytes");
            case ZlibInterop.NeedDictionary:
                return DecodeResult.Failure(Codec, "the stream needs a preset dictionary, which Tern never uses");
            default:
                return DecodeResult.Failure(Codec, ZlibInterop.Describe(z, code));
        }
    }

    public void Dispose() => _stream.Dispose();
}
