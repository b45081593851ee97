using Tern.Memory;
using Tern.Migration.Pages;
using Xunit;

namespace Tern.Migration.Tests.Pages;

/// <summary>Every path runs here whatever the machine has (a non-accelerated Vector512 falls back to software).</summary>
public sealed class ZeroPageTests
{
    public static TheoryData<ZeroScanPath> Paths => new(Enum.GetValues<ZeroScanPath>());

    private static bool Check(ZeroScanPath path, ReadOnlySpan<byte> data) => path switch
    {
        ZeroScanPath.Vector512 => ZeroPage.IsZeroVector512(data),
        ZeroScanPath.Vector256 => ZeroPage.IsZeroVector256(data),
        _ => ZeroPage.IsZeroScalar(data),
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_zero_page_is_zero(ZeroScanPath path) => Assert.True(Check(path, new byte[PageSize.Bytes]));

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_single_set_bit_anywhere_in_the_page_is_found(ZeroScanPath path)
    {
        var page = new byte[PageSize.Bytes];
        for (var offset = 0; offset < page.Length; offset++)
        {
            page[offset] = (byte)(1 << (offset % 8));
            Assert.False(Check(path, page), $"missed a bit at offset {offset}");
            page[offset] = 0;
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Odd_lengths_and_offsets_are_handled(ZeroScanPath path)
    {
        var buffer = new byte[PageSize.Bytes + 200];
        foreach (var start in new[] { 0, 1, 7, 33 })
        {
            foreach (var length in new[] { 0, 1, 7, 8, 31, 32, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, PageSize.Bytes + 100 })
            {
                var slice = buffer.AsSpan(start, length);
                Assert.True(Check(path, slice));
                if (length == 0) continue;
                foreach (var position in new[] { 0, length / 2, length - 1 })
                {
                    slice[position] = 0x80;
                    Assert.False(Check(path, slice), $"start {start}, length {length}, set byte at {position}");
                    slice[position] = 0;
                }
                // A non-zero byte just outside the slice must not count.
                buffer[start + length] = 0xFF;
                Assert.True(Check(path, slice));
                buffer[start + length] = 0;
            }
        }
    }

    [Fact]
    public void IsZero_agrees_with_the_scalar_path()
    {
        var rng = new Random(5);
        var page = new byte[PageSize.Bytes];
        Assert.True(ZeroPage.IsZero(page));
        for (var i = 0; i < 200; i++)
        {
            Array.Clear(page);
            if (i % 2 == 1) page[rng.Next(page.Length)] = (byte)rng.Next(1, 256);
            Assert.Equal(ZeroPage.IsZeroScalar(page), ZeroPage.IsZero(page));
        }
        Assert.True(Enum.IsDefined(ZeroPage.SelectedPath));
    }
}
