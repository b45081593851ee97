using System.Buffers.Binary;
using System.Numerics;

namespace Tern.Os;

/// <summary>
/// CRC32C (Castagnoli) computed with the CPU's CRC32 instruction, for state files and protocol frames. Every page a
/// migration sends is checksummed on both sides, so the long-buffer path matters: the instruction has a latency of
/// three cycles and a throughput of one, so one chain of it runs at a third of the speed the core can give. Buffers
/// of at least three lanes are cut into blocks of three lanes, each lane folded by its own chain, and the lanes are
/// joined by linearity: crc(A || B) = shift(crc(A)) ^ crc0(B), where crc0 starts from 0 and shift advances a state over
/// <see cref="LaneBytes"/> zero bytes, a linear map precomputed as one table entry per state bit.
/// </summary>
public static class Crc32C
{
    /// <summary>Bytes per lane: a block is three lanes (24 KiB); the rest of the buffer goes through one chain.</summary>
    public const int LaneBytes = 8 << 10;

    private static readonly uint[] ShiftByLane = BuildShiftTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        int i = 0;
        for (; i + 3 * LaneBytes <= data.Length; i += 3 * LaneBytes)
        {
            var a = data.Slice(i, LaneBytes);
            var b = data.Slice(i + LaneBytes, LaneBytes);
            var c = data.Slice(i + 2 * LaneBytes, LaneBytes);
            uint ca = crc, cb = 0, cc = 0;
            for (int j = 0; j < LaneBytes; j += 8)
            {
                ca = BitOperations.Crc32C(ca, BinaryPrimitives.ReadUInt64LittleEndian(a[j..]));
                cb = BitOperations.Crc32C(cb, BinaryPrimitives.ReadUInt64LittleEndian(b[j..]));
                cc = BitOperations.Crc32C(cc, BinaryPrimitives.ReadUInt64LittleEndian(c[j..]));
            }
            crc = Shift(Shift(ca) ^ cb) ^ cc;
        }
        for (; i + 8 <= data.Length; i += 8) crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++) crc = BitOperations.Crc32C(crc, data[i]);
        return ~crc;
    }

    /// <summary>The CRC register after <see cref="LaneBytes"/> zero bytes from <paramref name="state"/>: the XOR of the images of its set bits.</summary>
    private static uint Shift(uint state)
    {
        var table = ShiftByLane;
        uint result = 0;
        for (int bit = 0; bit < 32; bit++) result ^= table[bit] & (0u - ((state >> bit) & 1));
        return result;
    }

    private static uint[] BuildShiftTable()
    {
        var table = new uint[32];
        for (int bit = 0; bit < 32; bit++)
        {
            uint state = 1u << bit;
            for (int j = 0; j < LaneBytes; j += 8) state = BitOperations.Crc32C(state, 0UL);
            table[bit] = state;
        }
        return table;
    }
}
