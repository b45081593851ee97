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
// How, in three passes over ever smaller data: ChangeMask turns the two pages into 64 words of "byte changed" bits
// (64-byte vector compares where the hardware has them); RunBoundaries turns the bits into the page offsets where
// changed runs start and end; the loop below writes one run per pair of offsets. A page whose changed bytes alone,
// plus two length bytes a run, cannot fit is an overflow before anything is written.
using System.Diagnostics;
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

    /// <summary>
    /// <see cref="Encode(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> with the calling thread's own working
    /// memory: for a thread that encodes page after page. The same scratch must not be used by two threads at once.
    /// </summary>
    public static XbzrleEncodeResult Encode(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<byte> destination, XbzrleEncoderScratch scratch) =>
        Encode(oldPage, newPage, destination, XbzrleImplementations.Best, scratch);

    /// <summary>Encodes with a chosen implementation: for tests and benchmarks that compare them.</summary>
    public static XbzrleEncodeResult Encode(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<byte> destination, XbzrleImplementation implementation) =>
        Encode(oldPage, newPage, destination, implementation, XbzrleEncoderScratch.ForThisThread);

    /// <summary>Encodes with a chosen implementation and the caller's working memory.</summary>
    public static XbzrleEncodeResult Encode(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<byte> destination, XbzrleImplementation implementation, XbzrleEncoderScratch scratch)
    {
        if (oldPage.Length != PageSize.Bytes) XbzrleThrow.NotAPage(nameof(oldPage), oldPage.Length);
        if (newPage.Length != PageSize.Bytes) XbzrleThrow.NotAPage(nameof(newPage), newPage.Length);
        if (destination.Length < Budget) XbzrleThrow.DestinationTooSmall(nameof(destination), destination.Length);
        ArgumentNullException.ThrowIfNull(scratch);

        var summary = ChangeMask.Compute(oldPage, newPage, scratch.Changed.AsSpan(1), implementation);
        if (!summary.AnyChanged) return XbzrleEncodeResult.Unchanged;
        int positions = RunBoundaries.Collect(scratch.Changed, summary, scratch.Positions, out int changedBytes, implementation);
        // Every changed byte is sent, and each run takes at least two length bytes: past a page, QEMU's loop would
        // give up somewhere on the way, whatever the runs look like.
        if (changedBytes + positions > Budget) return XbzrleEncodeResult.Overflow;
        return WriteRuns(scratch.Positions, positions, newPage, destination);
    }

    /// <summary>
    /// Writes the encoding of the changed runs whose start and end are the first <paramref name="positions"/>
    /// entries of <paramref name="runBoundaries"/> (at least one run), deciding overflow as QEMU's loop does.
    /// </summary>
    /// <remarks>
    /// QEMU checks for room three times a run; with d the bytes written before a run, z and n the bytes its two
    /// lengths take and len its changed bytes, it overflows if d + 2 > 4096 (check 1), d + z + 2 > 4096 (check 2) or
    /// d + z + n + len > 4096 (check 3). As z, n and len are at least 1, checks 1 and 2 failing imply check 3
    /// failing, so one check per run has the same outcome; only the unchanged tail needs check 1 on its own.
    /// That check also bounds every write: each length is stored as 2 bytes (the second is overwritten next when
    /// the length needs only one), at d and d + z, both at least 2 bytes before d + z + n + len &lt;= 4096.
    /// </remarks>
    private static XbzrleEncodeResult WriteRuns(ushort[] runBoundaries, int positions, ReadOnlySpan<byte> newPage, Span<byte> destination)
    {
        Debug.Assert(positions >= 2 && positions % 2 == 0 && positions <= runBoundaries.Length, "whole runs expected");
        // A 32-byte store for a short run's bytes must fit in the destination (at least a page) and be read from
        // within the page; a conservative constant limit takes no register.
        const int lastShortCopy = Budget - RunCopy.ShortRunBytes;
        // The fast path writes 2 length bytes and 32 run bytes from d, and reads 32 bytes from the run's start.
        const int lastFastRun = Budget - 2 - RunCopy.ShortRunBytes;

        ref byte dst = ref MemoryMarshal.GetReference(destination);
        ref byte src = ref MemoryMarshal.GetReference(newPage);
        // A run's start and end are adjacent 16-bit entries: read both at once (x86-64 is little-endian).
        ref uint runs = ref Unsafe.As<ushort, uint>(ref MemoryMarshal.GetArrayDataReference(runBoundaries));
        nint runCount = positions >> 1;

        // Positions are nint so that they index without sign extension; all stay within 0..4096.
        nint d = 0;
        nint unchangedStart = 0;
        for (nint r = 0; r < runCount; r++)
        {
            uint run = Unsafe.Add(ref runs, r);
            nint start = (nint)(run & 0xFFFF);
            nint end = (nint)(run >> 16);
            nint unchanged = start - unchangedStart;
            nint length = end - start;
            if ((unchanged | (length << 2)) < 0x80 && (d | start) <= lastFastRun)
            {
                // The common case in a busy page: both lengths take one byte, the run is under 32 bytes, and a 32-byte
                // copy stays inside both pages; then d + 2 + length < 4096, so QEMU's checks cannot fail either.
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, d), (ushort)(unchanged | (length << 8)));
                RunCopy.Copy32(ref Unsafe.Add(ref src, start), ref Unsafe.Add(ref dst, d + 2));
                d += 2 + length;
            }
            else
            {
                nint unchangedLong = LongLength(unchanged);
                nint lengthLong = LongLength(length);
                nint lengthsAt = d;
                d += 2 + unchangedLong + lengthLong;                           // both lengths
                if (d + length > Budget) return XbzrleEncodeResult.Overflow;

                WriteLength(ref Unsafe.Add(ref dst, lengthsAt), unchanged, unchangedLong);
                WriteLength(ref Unsafe.Add(ref dst, lengthsAt + 1 + unchangedLong), length, lengthLong);
                if (length <= RunCopy.ShortRunBytes && d <= lastShortCopy && start <= lastShortCopy)
                    RunCopy.Copy32(ref Unsafe.Add(ref src, start), ref Unsafe.Add(ref dst, d)); // may write past the run: room checked
                else
                    RunCopy.CopyExact(ref Unsafe.Add(ref src, start), ref Unsafe.Add(ref dst, d), (int)length);
                d += length;
            }
            unchangedStart = end;
        }

        // An unchanged tail: QEMU starts another round of its loop here and checks for room before it finds that the
        // rest of the page is unchanged (check 1), so a full or nearly full encoding overflows though nothing is added.
        if (unchangedStart != PageSize.Bytes && d > Budget - 2) return XbzrleEncodeResult.Overflow;
        return XbzrleEncodeResult.Encoded((int)d);
    }

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
