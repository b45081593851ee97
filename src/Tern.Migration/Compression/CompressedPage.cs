using Tern.Memory;

namespace Tern.Migration.Compression;

/// <summary>
/// One result of the <see cref="CompressionPipeline"/>, valid only during the handler call (its buffer then goes
/// back to the pool): either compressed bytes to send as a compressed page, or the page's own bytes to send as a
/// normal page because compressing did not pay.
/// </summary>
public readonly ref struct CompressedPage
{
    internal CompressedPage(PageIndex page, bool isCompressed, ReadOnlySpan<byte> data, ReadOnlySpan<byte> original)
    {
        Page = page;
        IsCompressed = isCompressed;
        Data = data;
        Original = original;
    }

    public PageIndex Page { get; }

    /// <summary>True: <see cref="Data"/> is a compressed page. False: it is the page itself (4096 bytes).</summary>
    public bool IsCompressed { get; }

    public ReadOnlySpan<byte> Data { get; }

    /// <summary>
    /// The page as it was copied at submission: exactly what the destination will hold once it has this page, which is
    /// what the XBZRLE cache must be updated with (never re-read guest memory for that, it may have changed since).
    /// </summary>
    public ReadOnlySpan<byte> Original { get; }
}

/// <summary>Receives compression results on the pipeline owner's thread, in submission order.</summary>
public delegate void CompressedPageHandler(CompressedPage page);

/// <summary>
/// Receives decompressed pages on the pipeline owner's thread, in submission order; typically copies
/// <paramref name="contents"/> into guest memory. The span is valid only during the call.
/// </summary>
public delegate void DecompressedPageHandler(PageIndex page, ReadOnlySpan<byte> contents);
