using System.Buffers.Binary;
using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// The page a <c>content=mixed</c> write fills: 64 lines of 8 qwords, a mix of pseudo-random and low-entropy values
/// that zstd compresses about 2-3x (like real memory, unlike a sparse page that compresses almost entirely). Line j
/// (bytes 64j .. 64j+63) of the page at guest-physical address A, filled by write i of a vCPU with PRNG key k:
/// <code>
///   S = splitmix64_finalizer(k ^ A)       stable: the same for every write to the page
///   W = h(v, i)                           the write's hash (see <see cref="WorkloadPrng"/>)
///   q0 = (S + 2j) * G      q1 = (S + 2j + 1) * G        pseudo-random, unchanged from write to write
///   q2 = (W + j) * G                                    pseudo-random, new with every write
///   q3 = value(v, i)                                    the write's value, the same in every line
///   q4 = j                 q5 = q6 = q7 = 0              low entropy
///   (G = 0x9E3779B97F4A7C15, all mod 2^64)
/// </code>
/// So 3 of every 8 qwords are incompressible, and between two writes to a page q2 and the low bytes of q3 change:
/// an XBZRLE delta of about a quarter of the page. The guest stores the qwords in address order, which is what lets
/// <see cref="WorkloadModel.Verify{TPages}"/> accept a page a stopped vCPU left half-filled by its in-flight write.
/// The guest computes q0, q1 and q2 by adding G or 2G per line, so a page costs about 600 instructions.
/// </summary>
public static class MixedPageContent
{
    public const int LineBytes = 64;
    public const int Lines = PageSize.Bytes / LineBytes;

    /// <summary>The page's stable seed S.</summary>
    public static ulong PageSeed(ulong prngKey, ulong pageAddress) => WorkloadPrng.Finalize(prngKey ^ pageAddress);

    /// <summary>Lines of the 1 KiB block a <c>stride</c> write fills on its first pass.</summary>
    public const int StrideBlockLines = WorkloadSpec.StrideStepBytes / LineBytes;

    /// <summary>Fills <paramref name="page"/> (4096 bytes) as the guest's write with hash <paramref name="writeHash"/> and value <paramref name="value"/> does.</summary>
    public static void Fill(Span<byte> page, ulong pageSeed, ulong writeHash, ulong value) =>
        FillLines(page, 0, Lines, pageSeed, writeHash, value);

    /// <summary>
    /// Fills lines [<paramref name="firstLine"/>, <paramref name="endLine"/>) of <paramref name="page"/> with the
    /// content the whole-page fill gives them. <c>stride</c> with content=mixed fills its 1 KiB block this way on the
    /// first pass (hash and value 0: the block stays the same from then on but for the byte stride increments).
    /// </summary>
    public static void FillLines(Span<byte> page, int firstLine, int endLine, ulong pageSeed, ulong writeHash, ulong value)
    {
        if (page.Length < PageSize.Bytes) throw new ArgumentException("a page is 4096 bytes", nameof(page));
        ulong a = (pageSeed + 2 * (ulong)firstLine) * WorkloadPrng.Golden;
        ulong b = (writeHash + (ulong)firstLine) * WorkloadPrng.Golden;
        for (int j = firstLine; j < endLine; j++)
        {
            Span<byte> line = page.Slice(j * LineBytes, LineBytes);
            BinaryPrimitives.WriteUInt64LittleEndian(line, a);
            BinaryPrimitives.WriteUInt64LittleEndian(line[8..], a + WorkloadPrng.Golden);
            BinaryPrimitives.WriteUInt64LittleEndian(line[16..], b);
            BinaryPrimitives.WriteUInt64LittleEndian(line[24..], value);
            BinaryPrimitives.WriteUInt64LittleEndian(line[32..], (ulong)j);
            line[40..].Clear();
            a += unchecked(2 * WorkloadPrng.Golden);
            b += WorkloadPrng.Golden;
        }
    }
}
