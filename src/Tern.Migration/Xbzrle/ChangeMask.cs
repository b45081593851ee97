using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// The first pass of the encoder: one bit per byte of the page, set where the old and new page differ. The page's
/// 4096 bytes become 64 words of 64 bits; bit <c>k</c> of word <c>b</c> stands for byte <c>64 * b + k</c>.
/// This pass reads both pages once, front to back, with no data-dependent branches, so it runs at memory speed;
/// the run-walking pass then works on these 512 bytes of bits instead of the 8 KiB of pages.
/// </summary>
internal static class ChangeMask
{
    public const int BlockBytes = 64;
    public const int Blocks = PageSize.Bytes / BlockBytes;

    /// <summary>Fills <paramref name="changed"/> (64 words) and tells whether any byte differs.</summary>
    public static bool Compute(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<ulong> changed, XbzrleImplementation implementation)
    {
        // The callers checked both pages are exactly one page long; the loops below rely on it.
        return implementation switch
        {
            XbzrleImplementation.Vector512 => ComputeVector512(oldPage, newPage, changed),
            XbzrleImplementation.Vector256 => ComputeVector256(oldPage, newPage, changed),
            _ => ComputeScalar(oldPage, newPage, changed),
        };
    }

    private static bool ComputeVector512(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<ulong> changed)
    {
        ref byte oldRef = ref MemoryMarshal.GetReference(oldPage);
        ref byte newRef = ref MemoryMarshal.GetReference(newPage);
        changed = changed[..Blocks];
        ulong any = 0;
        for (int b = 0; b < Blocks; b++)
        {
            nuint at = (nuint)(b * BlockBytes);
            var equal = Vector512.Equals(Vector512.LoadUnsafe(ref oldRef, at), Vector512.LoadUnsafe(ref newRef, at));
            ulong bits = ~equal.ExtractMostSignificantBits();
            changed[b] = bits;
            any |= bits;
        }
        return any != 0;
    }

    private static bool ComputeVector256(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<ulong> changed)
    {
        ref byte oldRef = ref MemoryMarshal.GetReference(oldPage);
        ref byte newRef = ref MemoryMarshal.GetReference(newPage);
        changed = changed[..Blocks];
        ulong any = 0;
        for (int b = 0; b < Blocks; b++)
        {
            nuint at = (nuint)(b * BlockBytes);
            var low = Vector256.Equals(Vector256.LoadUnsafe(ref oldRef, at), Vector256.LoadUnsafe(ref newRef, at));
            var high = Vector256.Equals(Vector256.LoadUnsafe(ref oldRef, at + 32), Vector256.LoadUnsafe(ref newRef, at + 32));
            ulong equalBits = low.ExtractMostSignificantBits() | ((ulong)high.ExtractMostSignificantBits() << 32);
            ulong bits = ~equalBits;
            changed[b] = bits;
            any |= bits;
        }
        return any != 0;
    }

    private static bool ComputeScalar(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<ulong> changed)
    {
        changed = changed[..Blocks];
        ulong any = 0;
        for (int b = 0; b < Blocks; b++)
        {
            ulong bits = 0;
            for (int w = 0; w < BlockBytes / sizeof(ulong); w++)
            {
                int at = b * BlockBytes + w * sizeof(ulong);
                ulong x = BinaryPrimitives.ReadUInt64LittleEndian(oldPage[at..]) ^ BinaryPrimitives.ReadUInt64LittleEndian(newPage[at..]);
                if (x != 0) bits |= (ulong)NonZeroBytes(x) << (w * 8); // most words of most pages are equal

            }
            changed[b] = bits;
            any |= bits;
        }
        return any != 0;
    }

    /// <summary>Bit k of the result is set when byte k of <paramref name="x"/> is non-zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte NonZeroBytes(ulong x)
    {
        const ulong low7 = 0x7F7F_7F7F_7F7F_7F7FUL;
        // Adding 0x7F to the low 7 bits of a byte carries into its bit 7 iff those bits are non-zero, and never
        // carries into the next byte; OR-ing x in catches bytes whose only set bit is bit 7.
        ulong high = (((x & low7) + low7) | x) & ~low7;
        // Gather the eight bit-7 flags into one byte: after the shift they sit at bits 0, 8, ..., 56, and the
        // multiplier moves bit 8k to bit 56 + k with no two partial products overlapping (so no carries).
        return (byte)(((high >> 7) * 0x0102_0408_1020_4080UL) >> 56);
    }
}

/// <summary>
/// One bit per 64-byte block of the page: whether the block has a changed byte, and whether it has an unchanged one.
/// The encoder jumps over runs of blocks with TrailingZeroCount on these instead of testing block after block.
/// </summary>
internal readonly struct BlockSummary
{
    private BlockSummary(ulong withChanges, ulong withUnchanged)
    {
        WithChanges = withChanges;
        WithUnchanged = withUnchanged;
    }

    /// <summary>Bit b: block b has at least one changed byte.</summary>
    public ulong WithChanges { get; }
    /// <summary>Bit b: block b has at least one unchanged byte.</summary>
    public ulong WithUnchanged { get; }

    /// <summary>Summarises the 64 words of a change mask, four at a time where the hardware has 256-bit vectors.</summary>
    public static BlockSummary Of(ReadOnlySpan<ulong> changed)
    {
        ulong withChanges = 0, withUnchanged = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ulong words = ref MemoryMarshal.GetReference(changed[..ChangeMask.Blocks]);
            for (int b = 0; b < ChangeMask.Blocks; b += Vector256<ulong>.Count)
            {
                var v = Vector256.LoadUnsafe(ref words, (nuint)b);
                withChanges |= (ulong)(~Vector256.Equals(v, Vector256<ulong>.Zero)).ExtractMostSignificantBits() << b;
                withUnchanged |= (ulong)(~Vector256.Equals(v, Vector256<ulong>.AllBitsSet)).ExtractMostSignificantBits() << b;
            }
        }
        else
        {
            for (int b = 0; b < ChangeMask.Blocks; b++)
            {
                withChanges |= (changed[b] != 0 ? 1UL : 0UL) << b;
                withUnchanged |= (changed[b] != ulong.MaxValue ? 1UL : 0UL) << b;
            }
        }
        return new BlockSummary(withChanges, withUnchanged);
    }
}
