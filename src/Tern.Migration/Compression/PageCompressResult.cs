namespace Tern.Migration.Compression;

/// <summary>
/// The result of compressing one page: either the length of the compressed bytes written to the destination, or
/// <see cref="SendWhole"/>: the page did not compress below <see cref="PageCodecLimits.MaxCompressedLength"/> and
/// goes on the wire as a normal page.
/// </summary>
public readonly record struct PageCompressResult
{
    private PageCompressResult(int length) => Length = length;

    /// <summary>Not worth compressing: send the page as it is.</summary>
    public static PageCompressResult SendWhole => default;

    public static PageCompressResult Compressed(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, PageCodecLimits.MaxCompressedLength);
        return new(length);
    }

    /// <summary>True when the destination holds <see cref="Length"/> compressed bytes to send.</summary>
    public bool IsCompressed => Length > 0;

    /// <summary>The compressed length; 0 for <see cref="SendWhole"/>.</summary>
    public int Length { get; }

    public override string ToString() => IsCompressed ? $"compressed to {Length} bytes" : "send whole";
}
