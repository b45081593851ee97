namespace Tern.Migration.Tests.Xbzrle;

/// <summary>
/// Test oracle: QEMU 7.2's xbzrle_encode_buffer and xbzrle_decode_buffer transliterated byte by byte (QEMU's
/// word-at-a-time scanning only speeds the same scan up, so it is left out), with QEMU's return values:
/// 0 unchanged, -1 overflow or bad input, else a length.
/// </summary>
internal static class QemuReference
{
    public const int PageBytes = 4096;

    public static int Encode(ReadOnlySpan<byte> oldBuf, ReadOnlySpan<byte> newBuf, Span<byte> dst)
    {
        const int slen = PageBytes, dlen = PageBytes;
        uint zrunLen = 0, nzrunLen = 0;
        int d = 0, i = 0;
        while (i < slen)
        {
            if (d + 2 > dlen) return -1;
            while (i < slen && oldBuf[i] == newBuf[i]) { zrunLen++; i++; }
            if (zrunLen == slen) return 0;
            if (i == slen) return d;
            d += Uleb128EncodeSmall(dst[d..], zrunLen);
            zrunLen = 0;
            int nzrunStart = i;
            if (d + 2 > dlen) return -1;
            while (i < slen && oldBuf[i] != newBuf[i]) { i++; nzrunLen++; }
            d += Uleb128EncodeSmall(dst[d..], nzrunLen);
            if (d + nzrunLen > dlen) return -1;
            newBuf.Slice(nzrunStart, (int)nzrunLen).CopyTo(dst[d..]);
            d += (int)nzrunLen;
            nzrunLen = 0;
        }
        return d;
    }

    public static int Decode(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int slen = src.Length, dlen = PageBytes;
        int i = 0, d = 0;
        while (i < slen)
        {
            if (slen - i < 2) return -1;
            int ret = Uleb128DecodeSmall(src[i..], out uint count);
            if (ret < 0 || (i != 0 && count == 0)) return -1;
            i += ret;
            d += (int)count;
            if (d > dlen) return -1;

            if (slen - i < 2) return -1;
            ret = Uleb128DecodeSmall(src[i..], out count);
            if (ret < 0 || count == 0) return -1;
            i += ret;
            if (d + count > dlen || i + count > slen) return -1;
            src.Slice(i, (int)count).CopyTo(dst[d..]);
            d += (int)count;
            i += (int)count;
        }
        return d;
    }

    private static int Uleb128EncodeSmall(Span<byte> output, uint n)
    {
        if (n > 0x3FFF) throw new InvalidOperationException("QEMU asserts n <= 0x3fff");
        if (n < 0x80) { output[0] = (byte)n; return 1; }
        output[0] = (byte)((n & 0x7F) | 0x80);
        output[1] = (byte)(n >> 7);
        return 2;
    }

    private static int Uleb128DecodeSmall(ReadOnlySpan<byte> input, out uint n)
    {
        if ((input[0] & 0x80) == 0) { n = input[0]; return 1; }
        n = (uint)(input[0] & 0x7F);
        if ((input[1] & 0x80) != 0) return -1;
        n |= (uint)input[1] << 7;
        return 2;
    }
}
