// XBZRLE: XOR-based zero run-length encoding of a page against the version the destination already holds,
// byte-compatible with QEMU 7.2's migration/xbzrle.c (xbzrle_encode_buffer, called with slen = dlen = 4096).
//
// Grammar (QEMU docs/xbzrle.txt):
//
//     encoding = ε                                      the page is unchanged (QEMU sends nothing)
//              | zrun nzrun { zrun nzrun }
//     zrun     = length                                 bytes equal in old and new page: skip them
//     nzrun    = length byte{length}                    bytes that differ: the NEW bytes (not the XOR)
//     length   = ULEB128, 1 byte for 0..127, 2 bytes for 128..16383 (a page needs no more)
//
// The encoder's output is exactly QEMU's:
//   * runs are maximal, so zrun and nzrun alternate and every length after the first is at least 1;
//   * the first zrun is 0 only when the page's first byte changed;
//   * there is no trailing zrun: the encoding ends with the last nzrun's bytes;
//   * lengths use the shortest ULEB128 form.
//
// Overflow (QEMU returns -1, and sends the page whole) is decided exactly where QEMU's loop decides it, with
// dlen = 4096 and d the bytes written so far:
//   1. before each zrun, including a trailing unchanged run that would not be written:   d + 2 > dlen
//   2. after writing the zrun's length, before the nzrun:                                   d + 2 > dlen
//   3. after writing the nzrun's length, before its bytes:                                 d + len > dlen
// Consequences at the boundary: an encoding that ends with the page's last byte may be exactly 4096 bytes long;
// one that is complete at 4095 (or 4096) bytes but leaves an unchanged tail overflows by rule 1, since QEMU checks
// for room before it notices the rest of the page is unchanged; at 4094 bytes with an unchanged tail it fits.
//
// How: a first pass turns the two pages into 64 words of "byte changed" bits (ChangeMask: 64-byte vector compares
// where the hardware has them); the second walks run boundaries in those bits, where a boundary is a bit that
// differs from the bit before it (bits ^ (bits << 1)), with TrailingZeroCount, skipping all-equal words at once.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>Encodes a page against its previous version in QEMU's XBZRLE format (grammar at the top of this file).</summary>
public static class XbzrleEncoder
{
    /// <summary>The room QEMU allows an encoding: one page. A longer encoding is an overflow.</summary>
    public const int Budget = PageSize.Bytes;

    /// <summary>
    /// Encodes <paramref name="newPage"/> against <paramref name="oldPage"/> (both exactly one page) into
    /// <paramref name="destination"/> (at least one page long). Pass a private copy of a guest page, not guest RAM
    /// itself: the encoder reads each byte more than once. Bytes of the destination past the returned length may be
    /// overwritten (short runs are copied with one vector store).
    /// </summary>
    public static XbzrleEncodeResult Encode(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<byte> destination) =>
        Encode(oldPage, newPage, destination, XbzrleImplementations.Best);

    /// <summary>The implementation <see cref="Encode(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> uses on this machine.</summary>
    public static XbzrleImplementation Implementation => XbzrleImplementations.Best;

    /// <summary>Encodes with a chosen implementation: for tests and benchmarks that compare them.</summary>
    public static XbzrleEncodeResult Encode(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<byte> destination, XbzrleImplementation implementation)
    {
        if (oldPage.Length != PageSize.Bytes) XbzrleThrow.NotAPage(nameof(oldPage), oldPage.Length);
        if (newPage.Length != PageSize.Bytes) XbzrleThrow.NotAPage(nameof(newPage), newPage.Length);
        if (destination.Length < Budget) XbzrleThrow.DestinationTooSmall(nameof(destination), destination.Length);

        Span<ulong> changed = stackalloc ulong[ChangeMask.Blocks];
        if (!ChangeMask.Compute(oldPage, newPage, changed, implementation)) return XbzrleEncodeResult.Unchanged;
        return WriteRuns(changed, newPage, destination);
    }

    /// <summary>
    /// Walks the run boundaries in <paramref name="changed"/> and writes the encoding, applying QEMU's three
    /// overflow checks at the points its loop applies them. At least one bit of <paramref name="changed"/> is set.
    /// </summary>
    private static XbzrleEncodeResult WriteRuns(ReadOnlySpan<ulong> changed, ReadOnlySpan<byte> newPage, Span<byte> destination)
    {
        // Invariants that make the unchecked writes below safe: d <= Budget - 2 before a length is written (checks
        // 1 and 2), d + length <= Budget before a run's bytes are copied (check 3), and destination.Length >= Budget.
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        ref byte src = ref MemoryMarshal.GetReference(newPage);

        int block = 0;
        ulong bits = changed[0];
        ulong boundaries = bits ^ (bits << 1); // the page starts "unchanged", so a changed byte 0 is a boundary
        ulong carry = bits >> 63;              // last bit of the previous word, for boundaries across words
        int d = 0;
        int runStart = 0;                      // where the current zrun started

        while (true)
        {
            // Next boundary: the start of a changed run.
            while (boundaries == 0)
            {
                if (++block == ChangeMask.Blocks) goto UnchangedTail;
                bits = changed[block];
                boundaries = bits ^ ((bits << 1) | carry);
                carry = bits >> 63;
            }
            int start = block * ChangeMask.BlockBytes + BitOperations.TrailingZeroCount(boundaries);
            boundaries &= boundaries - 1;

            if (d > Budget - 2) return XbzrleEncodeResult.Overflow;        // check 1
            d += WriteLength(ref Unsafe.Add(ref dst, d), start - runStart);
            if (d > Budget - 2) return XbzrleEncodeResult.Overflow;        // check 2

            // Next boundary: the end of that changed run, or the end of the page.
            int end;
            while (boundaries == 0)
            {
                if (++block == ChangeMask.Blocks) { end = PageSize.Bytes; goto HaveEnd; }
                bits = changed[block];
                boundaries = bits ^ ((bits << 1) | carry);
                carry = bits >> 63;
            }
            end = block * ChangeMask.BlockBytes + BitOperations.TrailingZeroCount(boundaries);
            boundaries &= boundaries - 1;

        HaveEnd:
            int length = end - start;
            d += WriteLength(ref Unsafe.Add(ref dst, d), length);
            if (d + length > Budget) return XbzrleEncodeResult.Overflow;   // check 3
            CopyRun(ref Unsafe.Add(ref src, start), ref Unsafe.Add(ref dst, d), length,
                d + ShortRunCopyBytes <= destination.Length, start + ShortRunCopyBytes <= PageSize.Bytes);
            d += length;
            if (end == PageSize.Bytes) return XbzrleEncodeResult.Encoded(d);
            runStart = end;
        }

    UnchangedTail:
        // The rest of the page is unchanged. QEMU starts another round of its loop here and checks for room before
        // it finds that out (check 1), so a full or nearly full encoding overflows even though nothing is added.
        if (d > Budget - 2) return XbzrleEncodeResult.Overflow;
        return XbzrleEncodeResult.Encoded(d);
    }

    private const int ShortRunCopyBytes = 32;

    /// <summary>Writes a run length (at most a page, so at most 2 bytes) in the shortest ULEB128 form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WriteLength(ref byte at, int value)
    {
        if (value < 0x80)
        {
            at = (byte)value;
            return 1;
        }
        at = (byte)(value | 0x80);
        Unsafe.Add(ref at, 1) = (byte)(value >> 7);
        return 2;
    }

    /// <summary>
    /// Copies a changed run. Most runs are short, and one 32-byte load and store beats a call to a general copy;
    /// that store may write past the run, which is allowed only when both the page and the destination have the
    /// room, as the caller says.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRun(ref byte from, ref byte to, int length, bool destinationHasRoom, bool sourceHasRoom)
    {
        if (Vector256.IsHardwareAccelerated && length <= ShortRunCopyBytes && destinationHasRoom && sourceHasRoom)
        {
            Vector256.LoadUnsafe(ref from).StoreUnsafe(ref to);
            return;
        }
        Unsafe.CopyBlockUnaligned(ref to, ref from, (uint)length);
    }
}
