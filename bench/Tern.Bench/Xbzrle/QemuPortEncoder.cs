using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tern.Bench.Xbzrle;

/// <summary>
/// The benchmarks' baseline: a straightforward C# port of QEMU 7.2's xbzrle_encode_buffer, word at a time where
/// QEMU is (8-byte compares for unchanged runs, the "has a zero byte" trick for changed runs), byte at a time
/// elsewhere. Returns 0 (unchanged), -1 (overflow) or the encoded length, as QEMU does. Reads go through refs so
/// that bounds checks do not slow the baseline down and flatter Tern's encoder.
/// </summary>
public static class QemuPortEncoder
{
    public static int Encode(ReadOnlySpan<byte> oldPage, ReadOnlySpan<byte> newPage, Span<byte> destination)
    {
        const int slen = 4096, dlen = 4096;
        if (oldPage.Length != slen || newPage.Length != slen || destination.Length < dlen) throw new ArgumentException("pages must be 4096 bytes");
        ref byte oldBuf = ref MemoryMarshal.GetReference(oldPage);
        ref byte newBuf = ref MemoryMarshal.GetReference(newPage);
        ref byte dst = ref MemoryMarshal.GetReference(destination);

        uint zrunLen = 0, nzrunLen = 0;
        int d = 0, i = 0;
        while (i < slen)
        {
            if (d + 2 > dlen) return -1;

            // not aligned to sizeof(long)
            int res = (slen - i) % sizeof(long);
            while (res != 0 && At(ref oldBuf, i) == At(ref newBuf, i)) { zrunLen++; i++; res--; }

            // word at a time for speed
            if (res == 0)
            {
                while (i < slen && Word(ref oldBuf, i) == Word(ref newBuf, i)) { i += sizeof(long); zrunLen += sizeof(long); }
                // go over the rest
                while (i < slen && At(ref oldBuf, i) == At(ref newBuf, i)) { zrunLen++; i++; }
            }

            if (zrunLen == slen) return 0;  // buffer unchanged
            if (i == slen) return d;        // skip last zero run

            d += Uleb128EncodeSmall(ref Unsafe.Add(ref dst, d), zrunLen);
            zrunLen = 0;
            int nzrunStart = i;

            if (d + 2 > dlen) return -1;

            res = (slen - i) % sizeof(long);
            while (res != 0 && At(ref oldBuf, i) != At(ref newBuf, i)) { i++; nzrunLen++; res--; }

            if (res == 0)
            {
                const ulong mask = 0x0101010101010101UL;
                while (i < slen)
                {
                    ulong xor = Word(ref oldBuf, i) ^ Word(ref newBuf, i);
                    if (((xor - mask) & ~xor & (mask << 7)) != 0)
                    {
                        // found the end of an nzrun within the current long
                        while (At(ref oldBuf, i) != At(ref newBuf, i)) { nzrunLen++; i++; }
                        break;
                    }
                    i += sizeof(long);
                    nzrunLen += sizeof(long);
                }
            }

            d += Uleb128EncodeSmall(ref Unsafe.Add(ref dst, d), nzrunLen);
            if (d + nzrunLen > dlen) return -1;
            Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref dst, d), ref Unsafe.Add(ref newBuf, nzrunStart), nzrunLen);
            d += (int)nzrunLen;
            nzrunLen = 0;
        }
        return d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte At(ref byte buffer, int i) => Unsafe.Add(ref buffer, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Word(ref byte buffer, int i) => Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref buffer, i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Uleb128EncodeSmall(ref byte output, uint n)
    {
        if (n < 0x80) { output = (byte)n; return 1; }
        output = (byte)((n & 0x7F) | 0x80);
        Unsafe.Add(ref output, 1) = (byte)(n >> 7);
        return 2;
    }
}
