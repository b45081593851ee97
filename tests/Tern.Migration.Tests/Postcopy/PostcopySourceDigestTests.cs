using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Engine.Postcopy;
using Tern.Migration.Pages;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// The source's x-verify digest in post-copy, built while pages are sent instead of after: whatever the order, the
/// lanes, the repeats and the pages never sent, it equals the digest of the whole paused RAM hashed at once.
/// </summary>
public sealed class PostcopySourceDigestTests : IDisposable
{
    private const int Pages = 512;
    private readonly GuestRam ram = GuestRam.Create(Pages * PageSize.Bytes);
    private readonly DirtyBitmap stale = new(Pages);

    public PostcopySourceDigestTests()
    {
        var random = new Random(11);
        var page = new byte[PageSize.Bytes];
        for (ulong p = 0; p < Pages; p++)
        {
            if (p % 7 == 3) continue; // holes: never written
            if (p % 5 == 0) Array.Clear(page); else random.NextBytes(page); // pages of zeros too
            ram.WritePage(new PageIndex(p), page);
            if (p % 3 != 0) stale.Set(new PageIndex(p));
        }
    }

    public void Dispose() => ram.Dispose();

    private ulong WholeRam()
    {
        using var whole = new PageSetDigest();
        whole.AddMemory(ram, _ => true);
        return whole.Value;
    }

    private ReadOnlySpan<byte> Page(ulong p) => ram.GetSpan(new PageIndex(p).Address, PageSize.Bytes);

    [Fact]
    public void Pages_sent_from_two_lanes_in_any_order_twice_and_the_held_pages_give_the_digest_of_all_of_RAM()
    {
        using var digest = new PostcopySourceDigest(ram, stale);
        var staleList = Enumerable.Range(0, Pages).Select(p => (ulong)p).Where(p => stale.IsSet(new PageIndex(p))).ToArray();
        new Random(3).Shuffle(staleList);
        var lanes = new[] { staleList[..(staleList.Length / 2)], staleList[(staleList.Length / 3)..] }; // overlap: sent on both
        digest.StartHeldPages();
        Parallel.ForEach(lanes, lane =>
        {
            foreach (ulong p in lane) digest.AddSent(new PageIndex(p), Page(p));
        });

        var (value, pages) = digest.Finish();

        Assert.Equal(WholeRam(), value);
        using var whole = new PageSetDigest();
        whole.AddMemory(ram, _ => true);
        Assert.Equal(whole.Pages, pages);
    }

    [Fact]
    public void Stale_pages_never_sent_are_hashed_from_RAM_at_the_end_and_a_changed_page_changes_the_digest()
    {
        ulong expected = WholeRam();
        using (var digest = new PostcopySourceDigest(ram, stale))
        {
            digest.StartHeldPages();
            Assert.Equal(expected, digest.Finish().Value); // nothing sent at all
        }
        using (var digest = new PostcopySourceDigest(ram, stale))
        {
            var other = Page(1).ToArray();
            other[100] ^= 0x40;
            digest.AddSent(new PageIndex(1), other); // what was sent is what counts, not a later read
            Assert.NotEqual(expected, digest.Finish().Value);
        }
    }

    [Fact]
    public void Disposing_while_the_held_pages_are_hashed_stops_promptly_and_a_late_page_is_ignored()
    {
        using var big = GuestRam.Create(64UL << 20);
        var page = new byte[PageSize.Bytes];
        new Random(5).NextBytes(page);
        for (ulong p = 0; p < big.PageCount; p++) big.WritePage(new PageIndex(p), page);
        var digest = new PostcopySourceDigest(big, new DirtyBitmap(big.PageCount));
        digest.StartHeldPages();
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        digest.Dispose();
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"disposing took {stopping.Elapsed}");
        digest.AddSent(new PageIndex(0), page); // a lane still sending: no use of the disposed digest
    }
}
