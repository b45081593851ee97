namespace Tern.Migration.Engine;

/// <summary>Pages sent so far by the form they took; the difference of two readings is what a pass sent.</summary>
public readonly record struct PageKinds(long Normal, long Zero, long Xbzrle, long Compressed)
{
    public static PageKinds Of(RamCounters c) => new(c.NormalPages, c.ZeroPages, c.XbzrlePages, c.CompressedPages);

    /// <summary>Pages in every form.</summary>
    public long Total => Normal + Zero + Xbzrle + Compressed;

    public static PageKinds operator -(PageKinds a, PageKinds b) =>
        new(a.Normal - b.Normal, a.Zero - b.Zero, a.Xbzrle - b.Xbzrle, a.Compressed - b.Compressed);
}
