using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// The first pass of the encoder: one bit per byte of the page, set where the old and new page differ. The page's
/// 4096 bytes become 64 words of 64 bits; bit <c>k</c> of word <c>b</c> stands for byte <c>64 * b + k</c>.
/// The vector passes read both pages once, front to back, and write every word without a branch: guest pages come
/// from memory, and a mispredicted "does this block differ?" test costs more than extracting the bits of a block
/// that does not, because it also throws away the loads already in flight. The run-walking pass then works on these
/// 512 bytes of bits instead of the 8 KiB of pages.
/// </summary>
internal static class ChangeMask
{
    public const int BlockBytes = 64;
    public const int Blocks = PageSize.Bytes / BlockBytes;

    /// <summary>
    /// Fills all 64 words of <paramref name="changed"/> and summarises them per block.
    /// </summary>
    public static BlockSummary Compute(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<ulong> changed, XbzrleImplementation implementation)
    {
        // The callers checked both pages are exactly one page long; the loops below rely on it.
        ref ulong bits = ref MemoryMarshal.GetReference(changed[..Blocks]);
        switch (implementation)
        {
            case XbzrleImplementation.Vector512: ComputeVector512(oldPage, newPage, ref bits); break;
            case XbzrleImplementation.Vector256: ComputeVector256(oldPage, newPage, ref bits); break;
            default: ComputeScalar(oldPage, newPage, ref bits); break;
        }
        return BlockSummary.Of(changed);
    }

    private static void ComputeVector512(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, ref ulong changed)
    {
        ref byte oldRef = ref MemoryMarshal.GetReference(oldPage);
        ref byte newRef = ref MemoryMarshal.GetReference(newPage);
        if (Avx512BW.IsSupported)
        {
            // One compare straight into a mask register per block (VPCMPNEQB), no XOR and no inversion: the fewer
            // instructions per block, the closer a sparsely changed page gets to the cost of merely reading it.
            for (nuint b = 0; b < Blocks; b += 2)
            {
                nuint at = b * BlockBytes;
                Unsafe.Add(ref changed, b) = Avx512BW.CompareNotEqual(Vector512.LoadUnsafe(ref oldRef, at), Vector512.LoadUnsafe(ref newRef, at)).ExtractMostSignificantBits();
                Unsafe.Add(ref changed, b + 1) = Avx512BW.CompareNotEqual(Vector512.LoadUnsafe(ref oldRef, at + 64), Vector512.LoadUnsafe(ref newRef, at + 64)).ExtractMostSignificantBits();
            }
            return;
        }
        // Where AVX-512 is absent (tests run this path everywhere), the same in portable vector operations.
        for (nuint b = 0; b < Blocks; b++)
        {
            nuint at = b * BlockBytes;
            Unsafe.Add(ref changed, b) = ~Vector512.Equals(Vector512.LoadUnsafe(ref oldRef, at), Vector512.LoadUnsafe(ref newRef, at)).ExtractMostSignificantBits();
        }
    }

    private static void ComputeVector256(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, ref ulong changed)
    {
        ref byte oldRef = ref MemoryMarshal.GetReference(oldPage);
        ref byte newRef = ref MemoryMarshal.GetReference(newPage);
        for (nuint b = 0; b < Blocks; b += 2)
        {
            nuint at = b * BlockBytes;
            var x0 = Vector256.LoadUnsafe(ref oldRef, at) ^ Vector256.LoadUnsafe(ref newRef, at);
            var x1 = Vector256.LoadUnsafe(ref oldRef, at + 32) ^ Vector256.LoadUnsafe(ref newRef, at + 32);
            var x2 = Vector256.LoadUnsafe(ref oldRef, at + 64) ^ Vector256.LoadUnsafe(ref newRef, at + 64);
            var x3 = Vector256.LoadUnsafe(ref oldRef, at + 96) ^ Vector256.LoadUnsafe(ref newRef, at + 96);
            Unsafe.Add(ref changed, b) = ChangedBits(x0, x1);
            Unsafe.Add(ref changed, b + 1) = ChangedBits(x2, x3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ChangedBits(Vector256<byte> lowXor, Vector256<byte> highXor)
    {
        ulong equal = Vector256.Equals(lowXor, Vector256<byte>.Zero).ExtractMostSignificantBits()
            | ((ulong)Vector256.Equals(highXor, Vector256<byte>.Zero).ExtractMostSignificantBits() << 32);
        return ~equal;
    }

    private static void ComputeScalar(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, ref ulong changed)
    {
        for (int b = 0; b < Blocks; b++)
        {
            ulong bits = 0;
            for (int w = 0; w < BlockBytes / sizeof(ulong); w++)
            {
                int at = b * BlockBytes + w * sizeof(ulong);
                ulong x = BinaryPrimitives.ReadUInt64LittleEndian(oldPage[at..]) ^ BinaryPrimitives.ReadUInt64LittleEndian(newPage[at..]);
                if (x != 0) bits |= (ulong)NonZeroBytes(x) << (w * 8); // most words of most pages are equal
            }
            Unsafe.Add(ref changed, b) = bits;
        }
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
/// Two bits per 64-byte block of the page: whether the block has a changed byte, and whether its last byte changed
/// (so that a run goes on into the next block). Runs start and end only in blocks with a changed byte and in blocks
/// right after one that ends changed: the encoder visits those alone.
/// </summary>
internal readonly record struct BlockSummary(ulong WithChanges, ulong EndingChanged)
{
    public bool AnyChanged => WithChanges != 0;

    /// <summary>The blocks where a run can start or end.</summary>
    public ulong RunEdges => WithChanges | (EndingChanged << 1);

    /// <summary>Summarises 64 words of change bits, eight or four at a time with vector compares where there are some.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BlockSummary Of(ReadOnlySpan<ulong> changed)
    {
        ref ulong bits = ref MemoryMarshal.GetReference(changed[..ChangeMask.Blocks]);
        ulong withChanges = 0, endingChanged = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (int b = 0; b < ChangeMask.Blocks; b += 8)
            {
                var words = Vector512.LoadUnsafe(ref bits, (nuint)b);
                withChanges |= (ulong)(~Vector512.Equals(words, Vector512<ulong>.Zero).ExtractMostSignificantBits() & 0xFF) << b;
                endingChanged |= (ulong)words.ExtractMostSignificantBits() << b;        // bit 63 is the block's last byte
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (int b = 0; b < ChangeMask.Blocks; b += 4)
            {
                var words = Vector256.LoadUnsafe(ref bits, (nuint)b);
                withChanges |= (ulong)(~Vector256.Equals(words, Vector256<ulong>.Zero).ExtractMostSignificantBits() & 0xF) << b;
                endingChanged |= (ulong)words.ExtractMostSignificantBits() << b;
            }
        }
        else
        {
            for (int b = 0; b < ChangeMask.Blocks; b++)
            {
                ulong word = Unsafe.Add(ref bits, b);
                withChanges |= (word != 0 ? 1UL : 0UL) << b;
                endingChanged |= (word >> 63) << b;
            }
        }
        return new BlockSummary(withChanges, endingChanged);
    }
}
