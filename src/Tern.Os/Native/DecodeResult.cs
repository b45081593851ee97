namespace Tern.Os.Native;

/// <summary>
/// The outcome of decompressing untrusted input into a buffer of an exact expected length: success means the whole
/// destination was filled and the input was consumed exactly; anything else is a failure with the reason, which
/// names the codec and, where it has one, the library's error string.
/// </summary>
public readonly struct DecodeResult
{
    private DecodeResult(string? error) => Error = error;

    /// <summary>The destination holds exactly its length of decompressed bytes.</summary>
    public static DecodeResult Success => default;

    public static DecodeResult Failure(string codec, string reason) => new($"{codec}: {reason}");

    public bool Succeeded => Error is null;

    /// <summary>Why decompression failed, or null when it succeeded.</summary>
    public string? Error { get; }

    public override string ToString() => Error ?? "ok";
}
