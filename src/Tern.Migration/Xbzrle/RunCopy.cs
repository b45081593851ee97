using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// Copies a changed run's bytes inside the codec's loops. Most runs are a few bytes long; one 32-byte load and store
/// beats a call to a general copy, and keeping calls out of the loops keeps its variables in registers.
/// </summary>
internal static class RunCopy
{
    public const int ShortRunBytes = 32;

    /// <summary>
    /// Copies <paramref name="length"/> bytes. When <paramref name="roomToOverwrite"/> is true, both buffers have 32
    /// bytes from the given places and the destination's bytes past the run may be overwritten.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ref byte from, ref byte to, int length, bool roomToOverwrite)
    {
        if (length <= ShortRunBytes && roomToOverwrite)
        {
            Copy32(ref from, ref to);
            return;
        }
        if (length >= ShortRunBytes)
        {
            // Whole 32-byte pieces, then one more ending exactly at the run's end (overlapping the one before).
            int k = 0;
            do
            {
                Copy32(ref Unsafe.Add(ref from, k), ref Unsafe.Add(ref to, k));
                k += ShortRunBytes;
            }
            while (k <= length - ShortRunBytes);
            Copy32(ref Unsafe.Add(ref from, length - ShortRunBytes), ref Unsafe.Add(ref to, length - ShortRunBytes));
            return;
        }
        // A short run near the end of a buffer: rare, so plainly.
        for (int k = 0; k < length; k++) Unsafe.Add(ref to, k) = Unsafe.Add(ref from, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy32(ref byte from, ref byte to)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256.LoadUnsafe(ref from).StoreUnsafe(ref to);
        }
        else
        {
            var low = Vector128.LoadUnsafe(ref from);
            var high = Vector128.LoadUnsafe(ref from, 16);
            low.StoreUnsafe(ref to);
            high.StoreUnsafe(ref to, 16);
        }
    }
}
