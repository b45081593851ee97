using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tern.Memory;
using Xunit;

namespace Tern.Kvm.Tests.Memory;

public class PageArrayTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1024)]
    public void EveryPageStartsOnAPageBoundaryAndKeepsItsOwnBytes(int pages)
    {
        // Several arrays in a row: the pinned heap places them at varying offsets, which the alignment must absorb.
        for (int n = 0; n < 8; n++)
        {
            var array = new PageArray(pages);
            Assert.Equal(pages, array.Pages);
            Assert.Equal((long)pages * PageSize.Bytes, array.Bytes);
            Assert.Equal(pages * PageSize.Bytes, array.Span.Length);
            for (int p = 0; p < pages; p++)
            {
                var page = array.Page(p);
                Assert.Equal(PageSize.Bytes, page.Length);
                Assert.Equal(0, AddressOf(page) % PageSize.Bytes);
                page.Fill((byte)(p + 1));
            }
            for (int p = 0; p < pages; p++) Assert.True(array.Page(p).IndexOfAnyExcept((byte)(p + 1)) < 0, $"page {p} was overwritten");
            Assert.Equal(AddressOf(array.Page(0)), AddressOf(array.Span));
        }
    }

    [Fact]
    public void PagesOutsideTheArrayAreRefusedRatherThanReadFromTheSlack()
    {
        var array = new PageArray(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => array.Page(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => array.Page(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PageArray(0));
    }

    /// <summary>The address of a span's first byte: its distance from the null reference (the array is pinned).</summary>
    private static long AddressOf(Span<byte> bytes) =>
        (long)Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref MemoryMarshal.GetReference(bytes));
}
