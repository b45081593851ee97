using Tern.Memory;
using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class DecompressionPipelineTests
{
    [Theory]
    [InlineData(1, "zstd")]
    [InlineData(2, "lz4")]
    [InlineData(4, "zlib")]
    public void Source_to_destination_rebuilds_guest_memory_exactly(int workers, string method)
    {
        const int pages = 2000;
        var source = new byte[pages * PageSize.Bytes];
        for (var i = 0; i < pages; i++) TestPages.Mixed(i).CopyTo(source, i * PageSize.Bytes);
        var destination = new byte[source.Length];
        var written = new List<PageIndex>();
        var codec = new PageCodecOptions(method, 1);

        using var receiver = new DecompressionPipeline(new DecompressionPipelineOptions { Workers = workers, Codec = codec }, (page, contents) =>
        {
            written.Add(page);
            contents.CopyTo(destination.AsSpan((int)page.Value * PageSize.Bytes, PageSize.Bytes));
        });
        using var sender = new CompressionPipeline(new CompressionPipelineOptions { Workers = workers, Codec = codec }, page =>
        {
            if (page.IsCompressed) receiver.Submit(page.Page, page.Data);
            else page.Data.CopyTo(destination.AsSpan((int)page.Page.Value * PageSize.Bytes, PageSize.Bytes));
        });
        for (var i = 0; i < pages; i++) sender.Submit(new PageIndex((ulong)i), source.AsSpan(i * PageSize.Bytes, PageSize.Bytes));
        sender.Flush();
        receiver.Flush();

        Assert.Equal(source, destination);
        Assert.Equal(written.Order(), written); // in submission order
        Assert.Equal(pages - pages / 4, written.Count); // every page but the random ones went through the receiver
    }

    [Fact]
    public void A_corrupt_page_raises_an_error_naming_the_page_and_the_reason()
    {
        var written = new List<PageIndex>();
        using var gate = new ManualResetEventSlim(false);
        using var receiver = new DecompressionPipeline(new DecompressionPipelineOptions { Workers = 2 }, () => new GatedCodec(gate), (page, _) => written.Add(page));
        using var codec = PageCodecFactory.Create("zstd", 1);
        var good = new byte[PageCodecLimits.MaxCompressedLength];
        var length = codec.Compress(TestPages.Structured(1), good).Length;

        // The gate keeps every result back until Flush, which is therefore the call that reaches the bad page.
        receiver.Submit(new PageIndex(10), good.AsSpan(0, length));
        receiver.Submit(new PageIndex(11), "not a zstd frame"u8);
        receiver.Submit(new PageIndex(12), good.AsSpan(0, length));
        gate.Set();
        var e = Assert.Throws<PageDecompressionException>(receiver.Flush);

        Assert.Equal(new PageIndex(11), e.Page);
        Assert.StartsWith("page 11 could not be decompressed: zstd: ", e.Message);
        Assert.Equal([new PageIndex(10)], written);
        receiver.Flush();
        Assert.Equal([new PageIndex(10), new PageIndex(12)], written);
    }

    [Fact]
    public void An_over_long_compressed_page_is_refused_at_once()
    {
        using var receiver = new DecompressionPipeline(new DecompressionPipelineOptions(), (_, _) => { });
        var e = Assert.Throws<PageDecompressionException>(() => receiver.Submit(new PageIndex(3), new byte[PageSize.Bytes]));
        Assert.Contains("exceeds the 3968-byte limit", e.Message);
        Assert.Equal(0, receiver.InFlight);
    }
}
