namespace Tern.Migration.Compression;

/// <summary>The result of decompressing one page: success (the page holds exactly 4096 bytes) or the reason it failed.</summary>
public readonly record struct PageDecompressResult
{
    private PageDecompressResult(string? failure) => Failure = failure;

    public static PageDecompressResult Success => default;

    public static PageDecompressResult Failed(string reason) => new(reason);

    public bool Succeeded => Failure is null;

    /// <summary>Why the page could not be decompressed (names the codec), or null on success.</summary>
    public string? Failure { get; }

    public override string ToString() => Failure ?? "ok";
}
