namespace Tern.Migration.Compression;

/// <summary>
/// A validated compression method and level (QEMU's <c>compress-level</c> with Tern's <c>x-compress-method</c>).
/// Construction fails with an <see cref="ArgumentException"/> whose message an operator can act on.
/// </summary>
public sealed record PageCodecOptions
{
    public const string Zstd = "zstd";
    public const string Lz4 = "lz4";
    public const string Zlib = "zlib";

    /// <summary>The methods Tern knows, in the order they are offered.</summary>
    public static IReadOnlyList<string> Methods { get; } = [Zstd, Lz4, Zlib];

    /// <summary>zstd at level 1: fast, and on guest memory close to the best ratio of the fast codecs.</summary>
    public static PageCodecOptions Default { get; } = new(Zstd, 1);

    public PageCodecOptions(string method, int level)
    {
        var error = Validate(method, level);
        if (error is not null) throw new ArgumentException(error);
        Method = method;
        Level = level;
    }

    public string Method { get; }

    public int Level { get; }

    /// <summary>The levels a method accepts: zstd 1–22, lz4 1–12 (3 and up are LZ4 HC), zlib 1–9.</summary>
    public static (int Min, int Max)? LevelRange(string? method) => method switch
    {
        Zstd => (1, 22),
        Lz4 => (1, 12),
        Zlib => (1, 9),
        _ => null,
    };

    /// <summary>Returns null when valid, else what is wrong and what would be right.</summary>
    public static string? Validate(string? method, int level)
    {
        if (LevelRange(method) is not var (min, max))
            return $"unknown compression method '{method}': use {string.Join(", ", Methods.Take(Methods.Count - 1))} or {Methods[^1]}";
        if (level < min || level > max)
            return $"compress-level {level} is out of range for {method}: use {min} to {max}";
        return null;
    }

    public override string ToString() => $"{Method} level {Level}";
}
