using Tern.Memory;

namespace Tern.Migration.Compression;

/// <summary>
/// A compressed page from the source did not decompress to exactly one page: the stream is corrupt or hostile and the
/// incoming migration cannot continue. The message names the page and the codec's reason.
/// </summary>
public sealed class PageDecompressionException(PageIndex page, string reason)
    : Exception($"{page} could not be decompressed: {reason}")
{
    public PageIndex Page { get; } = page;

    public string Reason { get; } = reason;
}
