namespace Tern.Bench.Xbzrle;

/// <summary>
/// The decode benchmarks' baseline: a straightforward C# port of QEMU 7.2's xbzrle_decode_buffer (a general copy
/// per changed run). Returns -1 for bad input, else how far into the page the runs reached.
/// </summary>
public static class QemuPortDecoder
{
    public static int Decode(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int slen = src.Length, dlen = dst.Length;
        int i = 0, d = 0;
        while (i < slen)
        {
            if (slen - i < 2) return -1;
            int ret = Uleb128DecodeSmall(src[i..], out int count);
            if (ret < 0 || (i != 0 && count == 0)) return -1;
            i += ret;
            d += count;
            if (d > dlen) return -1;

            if (slen - i < 2) return -1;
            ret = Uleb128DecodeSmall(src[i..], out count);
            if (ret < 0 || count == 0) return -1;
            i += ret;
            if (d + count > dlen || i + count > slen) return -1;
            src.Slice(i, count).CopyTo(dst[d..]);
            d += count;
            i += count;
        }
        return d;
    }

    private static int Uleb128DecodeSmall(ReadOnlySpan<byte> input, out int n)
    {
        if ((input[0] & 0x80) == 0) { n = input[0]; return 1; }
        n = input[0] & 0x7F;
        if ((input[1] & 0x80) != 0) return -1;
        n |= input[1] << 7;
        return 2;
    }
}
