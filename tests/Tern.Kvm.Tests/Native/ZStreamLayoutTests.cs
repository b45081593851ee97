using Xunit;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tern.Os.Native;

namespace Tern.Kvm.Tests.Native;

/// <summary>z_stream's size and offsets as gcc reports them for /usr/include/zlib.h on x86-64 Debian 12.</summary>
public sealed class ZStreamLayoutTests
{
    [Fact]
    public void Size_matches_the_header() => Assert.Equal(112, Unsafe.SizeOf<ZStream>());

    [Theory]
    [InlineData(nameof(ZStream.NextIn), 0)]
    [InlineData(nameof(ZStream.AvailIn), 8)]
    [InlineData(nameof(ZStream.TotalIn), 16)]
    [InlineData(nameof(ZStream.NextOut), 24)]
    [InlineData(nameof(ZStream.AvailOut), 32)]
    [InlineData(nameof(ZStream.TotalOut), 40)]
    [InlineData(nameof(ZStream.Msg), 48)]
    [InlineData(nameof(ZStream.State), 56)]
    [InlineData(nameof(ZStream.ZAlloc), 64)]
    [InlineData(nameof(ZStream.ZFree), 72)]
    [InlineData(nameof(ZStream.Opaque), 80)]
    [InlineData(nameof(ZStream.DataType), 88)]
    [InlineData(nameof(ZStream.Adler), 96)]
    [InlineData(nameof(ZStream.Reserved), 104)]
    public void Field_offsets_match_the_header(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<ZStream>(field));
}
