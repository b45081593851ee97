using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tern.Bench.Xbzrle;

/// <summary>
/// The least any encoder must do: read both pages in full. OR-s the XOR of the pages with the widest vectors the
/// hardware has and reports whether they differ, without stopping early.
/// </summary>
public static class MemoryReadBound
{
    public static bool Differ(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage)
    {
        ref byte o = ref MemoryMarshal.GetReference(oldPage);
        ref byte n = ref MemoryMarshal.GetReference(newPage);
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<byte>.Zero;
            for (nuint i = 0; i < 4096; i += 64) acc |= Vector512.LoadUnsafe(ref o, i) ^ Vector512.LoadUnsafe(ref n, i);
            return acc != Vector512<byte>.Zero;
        }
        var acc256 = Vector256<byte>.Zero;
        for (nuint i = 0; i < 4096; i += 64)
        {
            acc256 |= (Vector256.LoadUnsafe(ref o, i) ^ Vector256.LoadUnsafe(ref n, i))
                    | (Vector256.LoadUnsafe(ref o, i + 32) ^ Vector256.LoadUnsafe(ref n, i + 32));
        }
        return acc256 != Vector256<byte>.Zero;
    }
}
