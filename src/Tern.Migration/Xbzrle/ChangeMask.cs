using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// The first pass of the encoder: one bit per byte of the page, set where the old and new page differ. The page's
/// 4096 bytes become 64 words of 64 bits; bit <c>k</c> of word <c>b</c> stands for byte <c>64 * b + k</c>.
/// The pass reads both pages once, front to back, 256 bytes at a time: a group with no difference (most of a
/// sparsely changed page) costs only the loads and one test, as in a plain comparison, and leaves its four words
/// zero; only groups with differences get their bits extracted. The run-walking pass then works on these 512 bytes
/// of bits instead of the 8 KiB of pages.
/// </summary>
internal static class ChangeMask
{
    public const int BlockBytes = 64;
    public const int Blocks = PageSize.Bytes / BlockBytes;
    private const int GroupBytes = 4 * BlockBytes;

    /// <summary>
    /// Fills <paramref name="changed"/> (64 words, zero on entry) and summarises which blocks have changed and
    /// unchanged bytes.
    /// </summary>
    public static BlockSummary Compute(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<ulong> changed, XbzrleImplementation implementation)
    {
        // The callers checked both pages are exactly one page long; the loops below rely on it.
        return implementation switch
        {
            XbzrleImplementation.Vector512 => ComputeVector512(oldPage, newPage, changed),
            XbzrleImplementation.Vector256 => ComputeVector256(oldPage, newPage, changed),
            _ => ComputeScalar(oldPage, newPage, changed),
        };
    }

    private static BlockSummary ComputeVector512(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<ulong> changed)
    {
        ref byte oldRef = ref MemoryMarshal.GetReference(oldPage);
        ref byte newRef = ref MemoryMarshal.GetReference(newPage);
        changed = changed[..Blocks];
        var summary = new BlockSummary.Builder();
        for (int b = 0; b < Blocks; b += 4)
        {
            nuint at = (nuint)(b * BlockBytes);
            var x0 = Vector512.LoadUnsafe(ref oldRef, at) ^ Vector512.LoadUnsafe(ref newRef, at);
            var x1 = Vector512.LoadUnsafe(ref oldRef, at + 64) ^ Vector512.LoadUnsafe(ref newRef, at + 64);
            var x2 = Vector512.LoadUnsafe(ref oldRef, at + 128) ^ Vector512.LoadUnsafe(ref newRef, at + 128);
            var x3 = Vector512.LoadUnsafe(ref oldRef, at + 192) ^ Vector512.LoadUnsafe(ref newRef, at + 192);
            if (((x0 | x1) | (x2 | x3)) == Vector512<byte>.Zero) continue;
            summary.Add(changed, b, ~Vector512.Equals(x0, Vector512<byte>.Zero).ExtractMostSignificantBits());
            summary.Add(changed, b + 1, ~Vector512.Equals(x1, Vector512<byte>.Zero).ExtractMostSignificantBits());
            summary.Add(changed, b + 2, ~Vector512.Equals(x2, Vector512<byte>.Zero).ExtractMostSignificantBits());
            summary.Add(changed, b + 3, ~Vector512.Equals(x3, Vector512<byte>.Zero).ExtractMostSignificantBits());
        }
        return summary.Build();
    }

    private static BlockSummary ComputeVector256(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<ulong> changed)
    {
        ref byte oldRef = ref MemoryMarshal.GetReference(oldPage);
        ref byte newRef = ref MemoryMarshal.GetReference(newPage);
        changed = changed[..Blocks];
        var summary = new BlockSummary.Builder();
        for (int b = 0; b < Blocks; b += 4)
        {
            nuint at = (nuint)(b * BlockBytes);
            var x0 = Vector256.LoadUnsafe(ref oldRef, at) ^ Vector256.LoadUnsafe(ref newRef, at);
            var x1 = Vector256.LoadUnsafe(ref oldRef, at + 32) ^ Vector256.LoadUnsafe(ref newRef, at + 32);
            var x2 = Vector256.LoadUnsafe(ref oldRef, at + 64) ^ Vector256.LoadUnsafe(ref newRef, at + 64);
            var x3 = Vector256.LoadUnsafe(ref oldRef, at + 96) ^ Vector256.LoadUnsafe(ref newRef, at + 96);
            var x4 = Vector256.LoadUnsafe(ref oldRef, at + 128) ^ Vector256.LoadUnsafe(ref newRef, at + 128);
            var x5 = Vector256.LoadUnsafe(ref oldRef, at + 160) ^ Vector256.LoadUnsafe(ref newRef, at + 160);
            var x6 = Vector256.LoadUnsafe(ref oldRef, at + 192) ^ Vector256.LoadUnsafe(ref newRef, at + 192);
            var x7 = Vector256.LoadUnsafe(ref oldRef, at + 224) ^ Vector256.LoadUnsafe(ref newRef, at + 224);
            if ((((x0 | x1) | (x2 | x3)) | ((x4 | x5) | (x6 | x7))) == Vector256<byte>.Zero) continue;
            summary.Add(changed, b, ChangedBits(x0, x1));
            summary.Add(changed, b + 1, ChangedBits(x2, x3));
            summary.Add(changed, b + 2, ChangedBits(x4, x5));
            summary.Add(changed, b + 3, ChangedBits(x6, x7));
        }
        return summary.Build();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ChangedBits(Vector256<byte> lowXor, Vector256<byte> highXor)
    {
        ulong equal = Vector256.Equals(lowXor, Vector256<byte>.Zero).ExtractMostSignificantBits()
            | ((ulong)Vector256.Equals(highXor, Vector256<byte>.Zero).ExtractMostSignificantBits() << 32);
        return ~equal;
    }

    private static BlockSummary ComputeScalar(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<ulong> changed)
    {
        changed = changed[..Blocks];
        var summary = new BlockSummary.Builder();
        for (int b = 0; b < Blocks; b++)
        {
            ulong bits = 0;
            for (int w = 0; w < BlockBytes / sizeof(ulong); w++)
            {
                int at = b * BlockBytes + w * sizeof(ulong);
                ulong x = BinaryPrimitives.ReadUInt64LittleEndian(oldPage[at..]) ^ BinaryPrimitives.ReadUInt64LittleEndian(newPage[at..]);
                if (x != 0) bits |= (ulong)NonZeroBytes(x) << (w * 8); // most words of most pages are equal
            }
            if (bits != 0) summary.Add(changed, b, bits);
        }
        return summary.Build();
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
internal readonly record struct BlockSummary(ulong WithChanges, ulong WithUnchanged)
{
    public bool AnyChanged => WithChanges != 0;

    /// <summary>Collects a summary while the change bits are computed; blocks never added count as unchanged.</summary>
    public struct Builder()
    {
        private ulong _withChanges;
        private ulong _withUnchanged = ulong.MaxValue;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(Span<ulong> changed, int block, ulong changedBits)
        {
            changed[block] = changedBits;
            _withChanges |= (changedBits != 0 ? 1UL : 0UL) << block;
            _withUnchanged &= ~((changedBits == ulong.MaxValue ? 1UL : 0UL) << block);
        }

        public readonly BlockSummary Build() => new(_withChanges, _withUnchanged);
    }
}
