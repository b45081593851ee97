using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// Applies an XBZRLE encoding (grammar in XbzrleEncoder.cs) to the page the destination holds, as QEMU 7.2's
/// <c>xbzrle_decode_buffer(src, slen, dst, 4096)</c> does: unchanged runs are skipped, changed runs copied in.
/// It accepts exactly what QEMU accepts, including things QEMU's encoder never writes (2-byte lengths below 128,
/// an encoding longer than a page, an empty encoding), and rejects what QEMU rejects; the reasons are
/// <see cref="XbzrleDecodeError"/>. Checking that an encoding's length fits the wire format (QEMU refuses more than
/// a page before decoding) is the caller's job.
/// </summary>
/// <remarks>
/// Errors come back as a result, not an exception: bad input from the network is expected, not exceptional. Like
/// QEMU's, the decoder works in one pass, so after an error the page may hold some of the runs before it; discard it.
/// It never writes outside <c>page</c>, nor outside the runs the encoding names.
/// <para>Why the decoder has no vector/scalar choice of its own, unlike the encoder (<see cref="XbzrleImplementation"/>):
/// the encoder must search two pages for the bytes that differ, which is where vector compares pay; the decoder is
/// told where every run starts and how long it is, and only reads lengths (one ULEB128 byte or two) and copies runs.
/// The copies are <see cref="RunCopy.CopyExact"/>'s loads and stores, whose width tests
/// (<c>Vector256.IsHardwareAccelerated</c>) are constants the JIT folds when it compiles the method: the choice is
/// made once, at start-up, with no dispatch per run. The tests run the decoder with those copies and with a plain
/// span copy (<c>useVectorCopies: false</c>) and require the same result.</para>
/// </remarks>
public static class XbzrleDecoder
{
    public static XbzrleDecodeResult Decode(ReadOnlySpan<byte> encoded, Span<byte> page) =>
        Decode(encoded, page, useVectorCopies: true);

    /// <summary>Decodes with the runs copied by <see cref="RunCopy.CopyExact"/> or, for tests, by a general copy.</summary>
    internal static XbzrleDecodeResult Decode(ReadOnlySpan<byte> encoded, Span<byte> page, bool useVectorCopies)
    {
        if (page.Length != PageSize.Bytes) XbzrleThrow.NotAPage(nameof(page), page.Length);

        const int pageBytes = PageSize.Bytes;
        ref byte src = ref MemoryMarshal.GetReference(encoded);
        ref byte dst = ref MemoryMarshal.GetReference(page);
        int inputLength = encoded.Length;
        int i = 0;
        int d = 0;

        while (i < inputLength)
        {
            // Unchanged run. QEMU wants 2 bytes left even for a 1-byte length.
            if (inputLength - i < 2) return XbzrleDecodeResult.Failure(XbzrleDecodeError.TruncatedLength, i, d, 0);
            int at = i;
            int count = ReadLength(ref Unsafe.Add(ref src, i), out int lengthBytes);
            if (count < 0) return XbzrleDecodeResult.Failure(XbzrleDecodeError.LengthTooLong, at, d, 0);
            if (count == 0 && at != 0) return XbzrleDecodeResult.Failure(XbzrleDecodeError.EmptyUnchangedRun, at, d, 0);
            i += lengthBytes;
            if (d + count > pageBytes) return XbzrleDecodeResult.Failure(XbzrleDecodeError.UnchangedRunPastPage, at, d, count);
            d += count;

            // Changed run.
            if (inputLength - i < 2) return XbzrleDecodeResult.Failure(XbzrleDecodeError.TruncatedLength, i, d, 0);
            at = i;
            count = ReadLength(ref Unsafe.Add(ref src, i), out lengthBytes);
            if (count < 0) return XbzrleDecodeResult.Failure(XbzrleDecodeError.LengthTooLong, at, d, 0);
            if (count == 0) return XbzrleDecodeResult.Failure(XbzrleDecodeError.EmptyChangedRun, at, d, 0);
            i += lengthBytes;
            if (d + count > pageBytes) return XbzrleDecodeResult.Failure(XbzrleDecodeError.ChangedRunPastPage, at, d, count);
            if (count > inputLength - i) return XbzrleDecodeResult.Failure(XbzrleDecodeError.ChangedBytesPastInput, at, d, count);

            // Checked above: i + count <= inputLength and d + count <= pageBytes.
            if (useVectorCopies)
                RunCopy.CopyExact(ref Unsafe.Add(ref src, i), ref Unsafe.Add(ref dst, d), count);
            else
                Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref dst, d), ref Unsafe.Add(ref src, i), (uint)count);
            d += count;
            i += count;
        }
        return XbzrleDecodeResult.Success(d);
    }

    /// <summary>
    /// Reads a 1- or 2-byte ULEB128 length as QEMU's <c>uleb128_decode_small</c> does (non-shortest forms are
    /// accepted); -1 when a second byte has its high bit set. The caller guarantees 2 readable bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadLength(ref byte at, out int lengthBytes)
    {
        int first = at;
        if (first < 0x80)
        {
            lengthBytes = 1;
            return first;
        }
        int second = Unsafe.Add(ref at, 1);
        lengthBytes = 2;
        if (second >= 0x80) return -1;
        return (first & 0x7F) | (second << 7);
    }
}
