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
// differs from the bit before it (bits ^ (bits << 1)), with TrailingZeroCount, and jumps over unchanged blocks with
// a one-bit-per-block summary.
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>Encodes a page against its previous version in QEMU's XBZRLE format (grammar at the top of this file).</summary>
public static class XbzrleEncoder
{
    /// <summary>The room QEMU allows an encoding: one page. A longer encoding is an overflow.</summary>
    public const int Budget = PageSize.Bytes;

    /// <summary>
    /// Encodes <paramref name="newPage"/> against <paramref name="oldPage"/> (both exactly one page) into
    /// <paramref name="destination"/> (at least one page long, not overlapping either page). Pass a private copy of a
    /// guest page, not guest RAM itself: the encoder reads each byte more than once. Bytes of the destination past
    /// the returned length may be overwritten (short runs are copied with one vector store).
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

        // The 64 words of change bits, then the two words of the block summary: kept in memory next to the bits
        // rather than in registers, as the walk needs them only when it leaves a block.
        Span<ulong> changed = stackalloc ulong[ChangeMask.Blocks + 2];
        var summary = ChangeMask.Compute(oldPage, newPage, changed, implementation);
        if (!summary.AnyChanged) return XbzrleEncodeResult.Unchanged;
        changed[WithChangesWord] = summary.WithChanges;
        changed[WithUnchangedWord] = summary.WithUnchanged;
        return WriteRuns(changed, newPage, destination);
    }

    /// <summary>
    /// Walks the run boundaries in <paramref name="changed"/> and writes the encoding, deciding overflow as QEMU's
    /// loop does. At least one bit of <paramref name="changed"/> is set.
    /// </summary>
    /// <remarks>
    /// QEMU checks for room three times a run; with d the bytes written before a run, z and n the bytes its two
    /// lengths take and len its changed bytes, it overflows if d + 2 > 4096 (check 1), d + z + 2 > 4096 (check 2) or
    /// d + z + n + len > 4096 (check 3). As z, n and len are at least 1, checks 1 and 2 failing imply check 3
    /// failing, so one check per run has the same outcome; only the unchanged tail needs check 1 on its own.
    /// That check also bounds every write: each length is stored as 2 bytes (the second is overwritten next when
    /// the length needs only one), at d and d + z, both at least 2 bytes before d + z + n + len &lt;= 4096.
    /// </remarks>
    private static XbzrleEncodeResult WriteRuns(ReadOnlySpan<ulong> changed, ReadOnlySpan<byte> newPage, Span<byte> destination)
    {
        Debug.Assert(changed.Length > WithUnchangedWord, "change bits and block summary expected");
        // A 32-byte store for a short run's bytes must fit in the destination (at least a page) and be read from
        // within the page; a conservative constant limit takes no register.
        const int lastShortCopy = Budget - RunCopy.ShortRunBytes;

        ref byte dst = ref MemoryMarshal.GetReference(destination);
        ref byte src = ref MemoryMarshal.GetReference(newPage);
        ref ulong changedRef = ref MemoryMarshal.GetReference(changed);

        // Positions are nint so that they index without sign extension; all stay within 0..4096.
        nint blockStart = 0;                   // page offset of the current 64-byte block
        ulong bits = changedRef;
        ulong boundaries = bits ^ (bits << 1); // a boundary is a bit unlike the one before; the page starts unchanged
        nint d = 0;
        nint runStart = 0;                     // where the current unchanged run started

        while (true)
        {
            // The start of the next changed run: in this block, else in the next block with a changed byte (the
            // blocks in between are unchanged throughout, and this block ended unchanged).
            if (boundaries == 0)
            {
                ulong later = Unsafe.Add(ref changedRef, WithChangesWord) & (~1UL << (int)(blockStart >> 6));
                if (later == 0) goto UnchangedTail;
                int block = BitOperations.TrailingZeroCount(later);
                blockStart = (nint)block << 6;
                bits = Unsafe.Add(ref changedRef, block);
                boundaries = bits ^ (bits << 1);
            }
            nint start = blockStart + (nint)(uint)BitOperations.TrailingZeroCount(boundaries);
            boundaries &= boundaries - 1;

            // Its end: in this block, else in the next block with an unchanged byte, else the end of the page.
            nint end;
            if (boundaries == 0)
            {
                ulong later = Unsafe.Add(ref changedRef, WithUnchangedWord) & (~1UL << (int)(blockStart >> 6));
                if (later == 0)
                {
                    end = PageSize.Bytes;
                    goto HaveEnd;
                }
                int block = BitOperations.TrailingZeroCount(later);
                blockStart = (nint)block << 6;
                bits = Unsafe.Add(ref changedRef, block);
                boundaries = bits ^ ((bits << 1) | 1);                        // the block before ended changed
            }
            end = blockStart + (nint)(uint)BitOperations.TrailingZeroCount(boundaries);
            boundaries &= boundaries - 1;

        HaveEnd:
            nint unchanged = start - runStart;
            nint length = end - start;
            nint unchangedLong = LongLength(unchanged);
            nint lengthLong = LongLength(length);
            nint lengthsAt = d;
            d += 2 + unchangedLong + lengthLong;                               // both lengths
            if (d + length > Budget) return XbzrleEncodeResult.Overflow;

            WriteLength(ref Unsafe.Add(ref dst, lengthsAt), unchanged, unchangedLong);
            WriteLength(ref Unsafe.Add(ref dst, lengthsAt + 1 + unchangedLong), length, lengthLong);
            if (length <= RunCopy.ShortRunBytes && d <= lastShortCopy && start <= lastShortCopy)
                RunCopy.Copy32(ref Unsafe.Add(ref src, start), ref Unsafe.Add(ref dst, d)); // may write past the run: room checked
            else
                RunCopy.CopyExact(ref Unsafe.Add(ref src, start), ref Unsafe.Add(ref dst, d), (int)length);
            d += length;

            if (end == PageSize.Bytes) return XbzrleEncodeResult.Encoded((int)d);
            runStart = end;
        }

    UnchangedTail:
        // The rest of the page is unchanged. QEMU starts another round of its loop here and checks for room before
        // it finds that out (check 1), so a full or nearly full encoding overflows even though nothing is added.
        if (d > Budget - 2) return XbzrleEncodeResult.Overflow;
        return XbzrleEncodeResult.Encoded((int)d);
    }

    private const int WithChangesWord = ChangeMask.Blocks;
    private const int WithUnchangedWord = ChangeMask.Blocks + 1;

    /// <summary>
    /// 1 when a length needs a second byte (128 or more), else 0, without a branch, as run lengths are random in busy
    /// pages: for lengths up to a page (4096), adding 4096 - 128 reaches bit 12 exactly when the length is 128 or more.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint LongLength(nint value) => (value + (PageSize.Bytes - 0x80)) >> 12;

    /// <summary>
    /// Stores a run length (at most a page, so at most 2 bytes) in the shortest ULEB128 form, always as a 2-byte
    /// store; for a 1-byte length the caller overwrites the second byte next. Adding the bits above the low 7 to the
    /// value again moves them up one place, into the second byte; the continuation bit is set when there is a
    /// second byte (<paramref name="isLong"/> is 1). Tern runs on x86-64 only, so the store is little-endian.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteLength(ref byte at, nint value, nint isLong) =>
        Unsafe.WriteUnaligned(ref at, (ushort)((value + (value & ~0x7F)) | (isLong << 7)));
}
