using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tern.Migration.Pages;

/// <summary>
/// Zero-page detection (QEMU's <c>buffer_is_zero</c>): a zero page is sent as a one-line record, never compressed.
/// The widest hardware-accelerated vector path is chosen once; every path is public so tests and benchmarks can run
/// each one on any machine (a non-accelerated Vector512 still works, just slowly).
/// </summary>
/// <remarks>
/// Each vector path ORs four vectors per step and tests the accumulator once per step, so a non-zero page (the
/// common case for guest RAM that is in use) is usually rejected within its first 128 or 256 bytes, and a zero page is
/// scanned at full load bandwidth. Lengths that are not a multiple of the step finish with one overlapping vector.
/// </remarks>
public static class ZeroPage
{
    /// <summary>Which implementation <see cref="IsZero"/> uses on this machine.</summary>
    public static ZeroScanPath SelectedPath { get; } =
        Vector512.IsHardwareAccelerated ? ZeroScanPath.Vector512
        : Vector256.IsHardwareAccelerated ? ZeroScanPath.Vector256
        : ZeroScanPath.Scalar;

    /// <summary>True when every byte of <paramref name="page"/> is zero (any length; true for an empty span).</summary>
    public static bool IsZero(ReadOnlySpan<byte> page) => SelectedPath switch
    {
        ZeroScanPath.Vector512 => IsZeroVector512(page),
        ZeroScanPath.Vector256 => IsZeroVector256(page),
        _ => IsZeroScalar(page),
    };

    /// <summary>The portable baseline: eight bytes at a time.</summary>
    public static bool IsZeroScalar(ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        var i = 0;
        for (; i + 4 <= words.Length; i += 4)
        {
            if ((words[i] | words[i + 1] | words[i + 2] | words[i + 3]) != 0) return false;
        }
        for (; i < words.Length; i++)
        {
            if (words[i] != 0) return false;
        }
        foreach (var b in data[(words.Length * sizeof(ulong))..])
        {
            if (b != 0) return false;
        }
        return true;
    }

    public static bool IsZeroVector256(ReadOnlySpan<byte> data)
    {
        const int width = 32;
        if (data.Length < width) return IsZeroScalar(data);
        ref var start = ref MemoryMarshal.GetReference(data);
        var length = (nuint)data.Length;
        nuint offset = 0;
        for (; offset + 4 * width <= length; offset += 4 * width)
        {
            var any = Vector256.LoadUnsafe(ref start, offset)
                | Vector256.LoadUnsafe(ref start, offset + width)
                | Vector256.LoadUnsafe(ref start, offset + 2 * width)
                | Vector256.LoadUnsafe(ref start, offset + 3 * width);
            if (any != Vector256<byte>.Zero) return false;
        }
        for (; offset + width <= length; offset += width)
        {
            if (Vector256.LoadUnsafe(ref start, offset) != Vector256<byte>.Zero) return false;
        }
        // The last, overlapping vector covers a tail shorter than one vector (or re-checks the final one).
        return Vector256.LoadUnsafe(ref start, length - width) == Vector256<byte>.Zero;
    }

    public static bool IsZeroVector512(ReadOnlySpan<byte> data)
    {
        const int width = 64;
        if (data.Length < width) return IsZeroScalar(data);
        ref var start = ref MemoryMarshal.GetReference(data);
        var length = (nuint)data.Length;
        nuint offset = 0;
        for (; offset + 4 * width <= length; offset += 4 * width)
        {
            var any = Vector512.LoadUnsafe(ref start, offset)
                | Vector512.LoadUnsafe(ref start, offset + width)
                | Vector512.LoadUnsafe(ref start, offset + 2 * width)
                | Vector512.LoadUnsafe(ref start, offset + 3 * width);
            if (any != Vector512<byte>.Zero) return false;
        }
        for (; offset + width <= length; offset += width)
        {
            if (Vector512.LoadUnsafe(ref start, offset) != Vector512<byte>.Zero) return false;
        }
        return Vector512.LoadUnsafe(ref start, length - width) == Vector512<byte>.Zero;
    }
}

/// <summary>The implementations of <see cref="ZeroPage.IsZero"/>.</summary>
public enum ZeroScanPath
{
    Scalar,
    Vector256,
    Vector512,
}
