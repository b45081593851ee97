namespace Tern.Migration.Xbzrle;

/// <summary>
/// The encoder's working memory (8.5 KiB): the change bits, with the zero word <see cref="RunBoundaries"/> expects
/// before them, and the run positions. One per encoding thread: a thread that encodes many pages (the migration's
/// sender) keeps its own and passes it in. Without one, the encoder takes a per-thread set from thread-local
/// storage, which on Linux goes through __tls_get_addr for every page: a few percent of a sparsely changed page.
/// </summary>
public sealed class XbzrleEncoderScratch
{
    [ThreadStatic]
    private static XbzrleEncoderScratch? t_current;

    internal static XbzrleEncoderScratch ForThisThread => t_current ??= new XbzrleEncoderScratch();

    /// <summary>Word 0 stays zero; words 1..64 are the page's change bits.</summary>
    internal ulong[] Changed { get; } = new ulong[ChangeMask.Blocks + 1];

    internal ushort[] Positions { get; } = new ushort[RunBoundaries.BufferLength];
}
