using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// Copies a changed run's bytes inside the codec's loops. Most runs are a few bytes long: a load and a store or two
/// beat a call to a general copy, and keeping calls out of the loops keeps the loops' variables in registers.
/// </summary>
internal static class RunCopy
{
    public const int ShortRunBytes = 32;

    /// <summary>
    /// Copies exactly <paramref name="length"/> bytes, writing nothing outside them: short lengths as two
    /// overlapping loads and stores of the largest width that fits (the way memmove does small sizes), longer ones in
    /// 32-byte pieces. Used where the bytes after the run must not be touched, even with their own values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyExact(ref byte from, ref byte to, int length)
    {
        if (length > ShortRunBytes)
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
        }
        else if (length >= 16)
        {
            var head = Vector128.LoadUnsafe(ref from);
            var tail = Vector128.LoadUnsafe(ref from, (nuint)(length - 16));
            head.StoreUnsafe(ref to);
            tail.StoreUnsafe(ref to, (nuint)(length - 16));
        }
        else if (length >= 8)
        {
            ulong head = Unsafe.ReadUnaligned<ulong>(ref from);
            ulong tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref from, length - 8));
            Unsafe.WriteUnaligned(ref to, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, length - 8), tail);
        }
        else if (length >= 4)
        {
            uint head = Unsafe.ReadUnaligned<uint>(ref from);
            uint tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref from, length - 4));
            Unsafe.WriteUnaligned(ref to, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, length - 4), tail);
        }
        else if (length >= 2)
        {
            ushort head = Unsafe.ReadUnaligned<ushort>(ref from);
            ushort tail = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref from, length - 2));
            Unsafe.WriteUnaligned(ref to, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, length - 2), tail);
        }
        else if (length == 1)
        {
            to = from;
        }
    }

    /// <summary>Copies 32 bytes: a whole short run and whatever follows it, where the caller allows that.</summary>
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
