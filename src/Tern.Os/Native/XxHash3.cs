using System.Diagnostics.CodeAnalysis;

namespace Tern.Os.Native;

/// <summary>One-shot XXH3-64 (libxxhash). Thread-safe: it keeps no state.</summary>
public static class XxHash3
{
    /// <summary>XXH3-64 of <paramref name="data"/>; equal to an <see cref="XxHash3Stream"/> fed the same bytes.</summary>
    public static unsafe ulong Hash64(ReadOnlySpan<byte> data, ulong seed = 0)
    {
        try
        {
            // Pinned for the call; libxxhash only reads `length` bytes (and accepts NULL when length is 0).
            fixed (byte* input = data)
            {
                return XxHashInterop.XXH3_64bits_withSeed(input, (nuint)data.Length, seed);
            }
        }
        catch (Exception e) when (NativeLibraryLoader.Translate(NativeLibraryInfo.XxHash, e) is { } missing)
        {
            ThrowMissing(missing);
            return 0;
        }
    }

    [DoesNotReturn]
    private static void ThrowMissing(NativeLibraryMissingException missing) => throw missing;
}
