using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// The second pass of the encoder: the page offsets where changed runs start and end, in order, so that
/// position 2k is where changed run k starts and position 2k + 1 is where it ends (exclusive). A boundary is a change
/// bit unlike the bit before it (<c>bits ^ (bits &lt;&lt; 1)</c>, carrying the last bit of the block before).
/// </summary>
/// <remarks>
/// Collecting all positions first and writing the encoding afterwards keeps both loops free of unpredictable
/// branches: this one writes a block's positions eight at a time whatever their number (as simdjson flattens its
/// bit sets), and the writing loop then runs once per changed run with nothing to decide. Walking the bits and
/// writing as it went cost a mispredicted branch almost every run, at every block edge a run crossed.
/// </remarks>
internal static class RunBoundaries
{
    /// <summary>The most positions a page can have: a boundary at every byte, and the page's end.</summary>
    public const int MaxPositions = PageSize.Bytes + 1;

    /// <summary>Room for the positions plus the unused ones a block's last write may put past them (64 at most).</summary>
    public const int BufferLength = MaxPositions + ChangeMask.BlockBytes;

    private const int Group = 8;

    /// <summary>
    /// Writes the run boundaries to <paramref name="positions"/> (at least <see cref="BufferLength"/> long) and
    /// returns how many there are, always an even number; <paramref name="changedBytes"/> receives the number of
    /// changed bytes. <paramref name="changed"/> holds a zero word, then the page's 64 words of change bits;
    /// <paramref name="summary"/> says which blocks to visit.
    /// </summary>
    public static int Collect(ReadOnlySpan<ulong> changed, BlockSummary summary, Span<ushort> positions, out int changedBytes, XbzrleImplementation implementation)
    {
        // Internal, and called once a page: the encoder passes its own scratch buffers, of the right sizes.
        Debug.Assert(changed.Length == ChangeMask.Blocks + 1, "a zero word and 64 words of change bits expected");
        Debug.Assert(positions.Length >= BufferLength, "room for every position expected");

        ref ulong words = ref MemoryMarshal.GetReference(changed);          // words[b + 1] is block b; words[0] is 0
        ref ushort at = ref MemoryMarshal.GetReference(positions);
        ulong visit = summary.RunEdges;
        nint count = 0;
        int bytes = 0;
        while (visit != 0)
        {
            nint block = BitOperations.TrailingZeroCount(visit);
            visit &= visit - 1;
            ulong bits = Unsafe.Add(ref words, block + 1);
            ulong carry = Unsafe.Add(ref words, block) >> 63;                  // the last byte of the block before
            bytes += BitOperations.PopCount(bits);
            ulong boundaries = bits ^ ((bits << 1) | carry);
            count = implementation == XbzrleImplementation.Vector512 && Avx512Vbmi2.IsSupported
                ? AppendCompressed(boundaries, block * ChangeMask.BlockBytes, ref at, count)
                : Append(boundaries, block * ChangeMask.BlockBytes, ref at, count);
        }
        // A page whose last byte changed ends its last run with the page.
        if ((long)Unsafe.Add(ref words, ChangeMask.Blocks) < 0) Unsafe.Add(ref at, count++) = PageSize.Bytes;
        changedBytes = bytes;
        return (int)count;
    }

    /// <summary>
    /// Appends the offsets of the set bits of <paramref name="boundaries"/> after <paramref name="count"/> positions.
    /// The first eight are written whether or not there are that many (a TrailingZeroCount of an empty word gives
    /// the block's end, harmlessly past the count), so most blocks take no branch that depends on their bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint Append(ulong boundaries, nint blockStart, ref ushort positions, nint count)
    {
        int found = BitOperations.PopCount(boundaries);
        ref ushort next = ref Unsafe.Add(ref positions, count);
        boundaries = WriteGroup(ref next, boundaries, blockStart);
        if (found > Group)
        {
            boundaries = WriteGroup(ref Unsafe.Add(ref next, Group), boundaries, blockStart);
            for (int k = 2 * Group; k < found; k++)
            {
                Unsafe.Add(ref next, k) = (ushort)(blockStart + BitOperations.TrailingZeroCount(boundaries));
                boundaries &= boundaries - 1;
            }
        }
        return count + found;
    }

    /// <summary>
    /// <see cref="Append"/> with AVX-512 VBMI2: spreads the 64 bits over 64 byte lanes, compresses the lane numbers
    /// of the set ones to the front (VPCOMPRESSB), widens them to 16 bits and adds the block's offset. Writes 32 or
    /// 64 positions whatever the count; the ones past it are garbage that the next block overwrites.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint AppendCompressed(ulong boundaries, nint blockStart, ref ushort positions, nint count)
    {
        int found = BitOperations.PopCount(boundaries);
        // Byte lane i holds byte i / 8 of the word (VPSHUFB picks within 16-byte lanes, each holding the whole word
        // twice), and is selected when its bit i % 8 is set.
        var spread = Avx512BW.Shuffle(Vector512.Create(boundaries).AsByte(), ByteOfBit);
        var selected = ~Vector512.Equals(spread & BitOfByte, Vector512<byte>.Zero);
        var lanes = Avx512Vbmi2.Compress(Vector512<byte>.Zero, selected, LaneNumbers);
        var offset = Vector512.Create((ushort)blockStart);
        ref ushort next = ref Unsafe.Add(ref positions, count);
        (Avx512BW.ConvertToVector512UInt16(lanes.GetLower()) + offset).StoreUnsafe(ref next);
        if (found > 32) (Avx512BW.ConvertToVector512UInt16(lanes.GetUpper()) + offset).StoreUnsafe(ref Unsafe.Add(ref next, 32));
        return count + found;
    }

    // Static readonly vectors are constants to the optimizing JIT; a 64-argument Create in a property was not.
    private static readonly Vector512<byte> ByteOfBit = Vector512.Create(
        (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
        4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7);

    private static readonly Vector512<byte> BitOfByte = Vector512.Create(0x8040_2010_0804_0201UL).AsByte();

    private static readonly Vector512<byte> LaneNumbers = Vector512<byte>.Indices;

    /// <summary>Writes the offsets of the lowest eight set bits (or the block's end for missing ones); returns the rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong WriteGroup(ref ushort next, ulong b, nint blockStart)
    {
        Unsafe.Add(ref next, 0) = (ushort)(blockStart + BitOperations.TrailingZeroCount(b)); b &= b - 1;
        Unsafe.Add(ref next, 1) = (ushort)(blockStart + BitOperations.TrailingZeroCount(b)); b &= b - 1;
        Unsafe.Add(ref next, 2) = (ushort)(blockStart + BitOperations.TrailingZeroCount(b)); b &= b - 1;
        Unsafe.Add(ref next, 3) = (ushort)(blockStart + BitOperations.TrailingZeroCount(b)); b &= b - 1;
        Unsafe.Add(ref next, 4) = (ushort)(blockStart + BitOperations.TrailingZeroCount(b)); b &= b - 1;
        Unsafe.Add(ref next, 5) = (ushort)(blockStart + BitOperations.TrailingZeroCount(b)); b &= b - 1;
        Unsafe.Add(ref next, 6) = (ushort)(blockStart + BitOperations.TrailingZeroCount(b)); b &= b - 1;
        Unsafe.Add(ref next, 7) = (ushort)(blockStart + BitOperations.TrailingZeroCount(b));
        return b & (b - 1);
    }
}
