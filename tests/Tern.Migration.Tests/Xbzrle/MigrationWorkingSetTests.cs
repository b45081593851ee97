using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>The working set that sizes the automatic XBZRLE cache: every page written since the migration began.</summary>
public sealed class MigrationWorkingSetTests
{
    private const ulong Pages = 4096;

    private static DirtyBitmap Dirtied(ulong first, ulong count)
    {
        var bitmap = new DirtyBitmap(Pages);
        for (ulong p = first; p < first + count; p++) bitmap.Set(new PageIndex(p % Pages));
        return bitmap;
    }

    [Fact]
    public void A_sweep_that_spans_several_passes_counts_as_the_whole_swept_range()
    {
        // A guest sweeping 2048 pages in order, a quarter of the sweep per pass: consecutive passes share no page, yet
        // every page is rewritten once per sweep and can go as a delta if the cache holds the whole sweep.
        var set = new MigrationWorkingSet(Pages);
        long last = 0;
        for (int pass = 0; pass < 8; pass++) last = set.Observe(Dirtied((ulong)pass % 4 * 512, 512));
        Assert.Equal(2048, last);
    }

    [Fact]
    public void It_never_shrinks_when_a_pass_dirties_less()
    {
        var set = new MigrationWorkingSet(Pages);
        Assert.Equal(1000, set.Observe(Dirtied(0, 1000)));
        Assert.Equal(1000, set.Observe(Dirtied(10, 3)));
        Assert.Equal(1000, set.Observe(new DirtyBitmap(Pages)));
        Assert.Equal(1100, set.Observe(Dirtied(900, 200)));
    }

    [Fact]
    public void A_bitmap_of_another_size_is_refused()
    {
        var set = new MigrationWorkingSet(Pages);
        var e = Assert.Throws<ArgumentException>(() => set.Observe(new DirtyBitmap(Pages * 2)));
        Assert.Contains("8192 pages for a guest of 4096", e.Message);
    }
}
