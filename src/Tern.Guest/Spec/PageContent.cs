namespace Tern.Guest;

/// <summary>What a page workload's write puts into its page (the spec's <c>content=</c> option).</summary>
public enum PageContent
{
    /// <summary>One 8-byte value per write; the rest of the page stays zero (compresses almost entirely).</summary>
    Sparse,

    /// <summary>
    /// Each write fills its whole 4 KiB page with a mix of pseudo-random and low-entropy qwords that compresses
    /// about 2-3x with zstd, like real memory; an eighth of the page changes from one write to the next
    /// (see <see cref="MixedPageContent"/>).
    /// </summary>
    Mixed,
}
