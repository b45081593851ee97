namespace Tern.Os.Native;

/// <summary>
/// A native codec reported an error while compressing (decompression reports errors as a
/// <see cref="DecodeResult"/> instead, because hostile input is expected there). The message names the codec and
/// the library's own error string.
/// </summary>
public sealed class NativeCodecException : Exception
{
    public NativeCodecException(string codec, string error)
        : base($"{codec}: {error}")
    {
        Codec = codec;
        Error = error;
    }

    /// <summary>The codec's name: <c>zstd</c>, <c>lz4</c> or <c>zlib</c>.</summary>
    public string Codec { get; }

    /// <summary>The library's error string, e.g. what <c>ZSTD_getErrorName</c> returned.</summary>
    public string Error { get; }
}
