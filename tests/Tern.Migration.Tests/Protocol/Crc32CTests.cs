using Tern.Os;

namespace Tern.Migration.Tests.Protocol;

/// <summary>The frame checksum: CRC32C as the standard defines it, whatever path a buffer's length takes.</summary>
public sealed class Crc32CTests
{
    /// <summary>Bit by bit, straight from the definition (reflected polynomial 0x82F63B78, init and final XOR ~0).</summary>
    private static uint Reference(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
        }
        return ~crc;
    }

    [Fact]
    public void The_standard_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(3 * Crc32C.LaneBytes - 1)]
    [InlineData(3 * Crc32C.LaneBytes)] // exactly one block of three lanes
    [InlineData(3 * Crc32C.LaneBytes + 13)]
    [InlineData(256 * 1024 + 8 + 4096 * 3 + 5)] // a Pages frame's size, blocks and a tail
    [InlineData(1 << 20)]
    public void Matches_the_definition_at_every_length(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        Assert.Equal(Reference(data), Crc32C.Compute(data));
    }

    [Fact]
    public void A_flipped_bit_in_any_lane_changes_it()
    {
        var data = new byte[3 * Crc32C.LaneBytes * 2];
        new Random(1).NextBytes(data);
        uint clean = Crc32C.Compute(data);
        foreach (int at in new[] { 0, Crc32C.LaneBytes + 3, 2 * Crc32C.LaneBytes + 100, 5 * Crc32C.LaneBytes + 7 })
        {
            data[at] ^= 0x10;
            Assert.NotEqual(clean, Crc32C.Compute(data));
            data[at] ^= 0x10;
        }
    }
}
