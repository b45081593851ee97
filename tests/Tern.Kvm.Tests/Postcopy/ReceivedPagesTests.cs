using Tern.Memory;
using Tern.Memory.Postcopy;

namespace Tern.Kvm.Tests.Postcopy;

/// <summary>The received-pages bitmap: lock-free marks from many threads, each page counted once, snapshots.</summary>
public sealed class ReceivedPagesTests
{
    [Fact]
    public void Mark_says_whether_it_set_the_page_and_counts_each_page_once()
    {
        var received = new ReceivedPages(130);
        Assert.True(received.Mark(new PageIndex(129)));
        Assert.False(received.Mark(new PageIndex(129)));
        Assert.True(received.Contains(new PageIndex(129)));
        Assert.False(received.Contains(new PageIndex(128)));
        Assert.Equal(1, received.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => received.Mark(new PageIndex(130)));
    }

    [Theory]
    [InlineData(130)] // a partial last word: no page beyond RAM may count
    [InlineData(128)]
    public void All_but_the_missing_pages_are_received_and_counted(int pages)
    {
        var missing = new Tern.Memory.Dirty.DirtyBitmap((ulong)pages);
        missing.Set(new PageIndex(0));
        missing.Set(new PageIndex(64));
        missing.Set(new PageIndex((ulong)pages - 1));

        var received = ReceivedPages.AllBut(missing);

        Assert.Equal(pages - 3, received.Count);
        Assert.Equal([0UL, 64UL, (ulong)pages - 1], received.Missing().Select(p => p.Value));
        Assert.False(received.Mark(new PageIndex(1)));
        Assert.True(received.Mark(new PageIndex(64)));
        Assert.Equal(pages - 2, received.Count);
    }

    [Fact]
    public void Threads_marking_the_same_pages_at_once_count_every_page_exactly_once()
    {
        const ulong Pages = 64 * 1024 + 17;
        var received = new ReceivedPages(Pages);
        long newlySet = 0;
        using var start = new Barrier(4);
        // Four threads mark every page, two upwards and two downwards, so marks of one page and one word overlap.
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            long mine = 0;
            start.SignalAndWait();
            for (ulong i = 0; i < Pages; i++)
                if (received.Mark(new PageIndex(t % 2 == 0 ? i : Pages - 1 - i))) mine++;
            Interlocked.Add(ref newlySet, mine);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal((long)Pages, received.Count);
        Assert.Equal((long)Pages, newlySet);
        Assert.True(received.IsComplete);
        Assert.Empty(received.Missing());
    }

    [Fact]
    public void Snapshot_and_Missing_are_complements_and_the_snapshot_does_not_follow_later_marks()
    {
        var received = new ReceivedPages(200);
        foreach (var p in new ulong[] { 0, 63, 64, 150, 199 }) received.Mark(new PageIndex(p));

        var snapshot = received.Snapshot();
        received.Mark(new PageIndex(100));

        Assert.Equal(new ulong[] { 0, 63, 64, 150, 199 }, ToList(snapshot.SetPages()));
        var missing = received.Missing().Select(p => p.Value).ToList();
        Assert.Equal(200 - 6, missing.Count);
        Assert.DoesNotContain(100UL, missing);
        Assert.Contains(198UL, missing);
        Assert.DoesNotContain(200UL, missing); // nothing past the end of RAM
    }

    private static List<ulong> ToList(Tern.Memory.Dirty.DirtyBitmap.SetPageEnumerator pages)
    {
        var list = new List<ulong>();
        foreach (var p in pages) list.Add(p.Value);
        return list;
    }
}
