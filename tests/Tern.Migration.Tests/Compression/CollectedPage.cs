using Xunit;
using Tern.Memory;
using Tern.Migration.Compression;

namespace Tern.Migration.Tests.Compression;

/// <summary>A copy of one pipeline result, taken inside the handler (the pipeline's buffers are reused after it).</summary>
internal sealed record CollectedPage(PageIndex Page, bool IsCompressed, byte[] Data, byte[] Original)
{
    public static CollectedPage Of(CompressedPage page) => new(page.Page, page.IsCompressed, page.Data.ToArray(), page.Original.ToArray());

    /// <summary>The page as the destination would rebuild it.</summary>
    public byte[] Decode(IPageCodec codec)
    {
        if (!IsCompressed) return Data;
        var page = new byte[PageSize.Bytes];
        var result = codec.Decompress(Data, page);
        Assert.True(result.Succeeded, result.Failure);
        return page;
    }
}
