namespace Tern.Migration.Xbzrle;

/// <summary>
/// The encoder's working memory, one set per thread: the change bits (with the zero word
/// <see cref="RunBoundaries"/> expects before them) and the run positions. 8.5 KiB is too much to clear on the stack
/// for every page, and no caller has to carry it.
/// </summary>
internal sealed class EncoderScratch
{
    [ThreadStatic]
    private static EncoderScratch? t_current;

    public static EncoderScratch ForThisThread => t_current ??= new EncoderScratch();

    /// <summary>Word 0 stays zero; words 1..64 are the page's change bits.</summary>
    public ulong[] Changed { get; } = new ulong[ChangeMask.Blocks + 1];

    public ushort[] Positions { get; } = new ushort[RunBoundaries.BufferLength];
}
