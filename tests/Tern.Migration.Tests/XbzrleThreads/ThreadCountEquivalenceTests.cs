using Tern.Memory;
using Tern.Migration.Api;

namespace Tern.Migration.Tests.XbzrleThreads;

/// <summary>
/// The same scripted guest data encoded as passes with XBZRLE on one thread and on several, over one and two real
/// channels: after every pass the receivers' copy equals the source byte for byte (so the cache always equalled what
/// the destination held, whichever thread encoded a page), and the statistics (QEMU's cache-miss, overflow, pages,
/// bytes, encoding-rate, cache-miss-rate, and the page kinds) are exactly those of the one-thread run. The script
/// re-dirties more pages than the cache holds, so evictions and refused insertions are part of what must agree.
/// </summary>
public sealed class ThreadCountEquivalenceTests
{
    private const int Pages = 2048;
    private const ulong CacheBytes = 4 << 20; // 1024 pages: half of RAM
    private const int HostCores = 4;          // four shards, whatever this host has
    private const uint Passes = 7;
    /// <summary>A pass that re-dirties a sixteenth of the pages only (86 pages: too few to wake workers for).</summary>
    private const uint SmallPass = 5;

    private sealed record Outcome(XbzrleCacheStats Stats, long Normal, long Zero, long Xbzrle, long Skipped, IReadOnlyList<int> ThreadsPerPass);

    private static Outcome Run(int threads, int channels, bool tellSize = false)
    {
        using var rig = new EncodedPassRig(Pages * (ulong)PageSize.Bytes, channels, HostCores);
        var data = new Random(20261207);
        for (int p = 0; p < Pages; p++)
        {
            var page = rig.Ram.GetPageSpan(new PageIndex((ulong)p));
            if (p % 10 != 3) data.NextBytes(page); // every tenth page stays zero
        }
        var used = new List<int>();
        for (uint pass = 1; pass <= Passes; pass++)
        {
            var dirty = pass == 1 ? Enumerable.Range(0, Pages).ToList() : Redirty(rig.Ram, pass);
            rig.SendPass(pass, dirty.Select(p => new PageIndex((ulong)p)).ToList(), CacheBytes, threads, tellSize);
            used.Add(rig.Encoder.XbzrleThreads);
            Assert.True(rig.FirstDifference() is null, $"{threads} threads, {channels} channels: after pass {pass} page {rig.FirstDifference()} differs from the source");
            // query-migrate's snapshot after each pass, as the engine takes it (the rates are per interval).
            rig.Encoder.XbzrleSnapshot();
        }
        var stats = rig.Encoder.XbzrleSnapshot();
        return new Outcome(stats, rig.Counters.NormalPages, rig.Counters.ZeroPages, rig.Counters.XbzrlePages, rig.Counters.SkippedPages, used);
    }

    /// <summary>
    /// Pass <paramref name="pass"/>'s writes, the same in every run: two thirds of the pages are dirty (more than the
    /// cache holds; all of them in the last pass, a sixteenth in <see cref="SmallPass"/>), and each is left as it was, given a changed word per KiB, 10% random bytes, new contents
    /// (an overflow), or zeroed.
    /// </summary>
    private static List<int> Redirty(GuestRam ram, uint pass)
    {
        var random = new Random((int)pass);
        var dirty = new List<int>();
        for (int p = 0; p < Pages; p++)
        {
            if (p % 3 == pass % 3 && pass != Passes) continue;
            if (pass == SmallPass && p % 16 != 0) continue;
            dirty.Add(p);
            var page = ram.GetPageSpan(new PageIndex((ulong)p));
            switch (random.Next(10))
            {
                case 0:
                    break; // unchanged: skipped when cached
                case 1:
                case 2:
                case 3:
                case 4:
                    for (int at = random.Next(1024 - 8) & ~7; at < PageSize.Bytes; at += 1024) page[at] ^= (byte)(1 + random.Next(255));
                    break;
                case 5:
                case 6:
                case 7:
                    for (int i = 0; i < PageSize.Bytes / 10; i++) page[random.Next(PageSize.Bytes)] = (byte)random.Next(256);
                    break;
                case 8:
                    random.NextBytes(page);
                    break;
                default:
                    page.Clear();
                    break;
            }
        }
        return dirty;
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 2)]
    [InlineData(3, 1)]
    public void Several_threads_deliver_the_same_pages_and_the_same_statistics_as_one(int threads, int channels)
    {
        var one = Run(threads: 1, channels);
        var several = Run(threads, channels);

        Assert.All(one.ThreadsPerPass, t => Assert.Equal(1, t));
        Assert.All(several.ThreadsPerPass, t => Assert.Equal(threads, t));
        // The script exercises every path: hits, misses, deltas, overflows, unchanged pages, zero pages.
        Assert.True(one.Stats.Pages > 1000 && one.Stats.CacheMiss > 1000 && one.Stats.Overflow > 50 && one.Skipped > 50, $"one thread: {one}");
        Assert.Equal(one.Stats, several.Stats);
        Assert.Equal((one.Normal, one.Zero, one.Xbzrle, one.Skipped), (several.Normal, several.Zero, several.Xbzrle, several.Skipped));
    }

    [Fact]
    public void A_pass_too_small_for_the_workers_stays_on_the_migration_thread_and_the_next_big_one_goes_back_to_them()
    {
        // 2 threads need at least 2 × 1024 pages: passes 1 and 7 (all 2048 pages) go to the workers; the passes of two
        // thirds of RAM (1365) and the small pass 5 (86) stay on the migration thread, over the shards the workers own.
        var one = Run(threads: 1, channels: 2, tellSize: true);
        var several = Run(threads: 2, channels: 2, tellSize: true);
        Assert.Equal([2, 1, 1, 1, 1, 1, 2], several.ThreadsPerPass);
        Assert.Equal(one.Stats, several.Stats);
        Assert.Equal((one.Normal, one.Zero, one.Xbzrle, one.Skipped), (several.Normal, several.Zero, several.Xbzrle, several.Skipped));
    }
}
