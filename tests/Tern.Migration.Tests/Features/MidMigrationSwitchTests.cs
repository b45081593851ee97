using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Features;

/// <summary>
/// Compression, XBZRLE, the channel count and the XBZRLE cache size changed while a migration runs: the change
/// applies from the pass it was made before, the statistics show it from the next pass on, and the guest still
/// arrives byte for byte.
/// </summary>
public sealed class MidMigrationSwitchTests
{
    private static LocalMigration Guest(string workload, ulong bandwidth, int vcpus = 1)
    {
        var m = LocalMigration.Sim(workload, memoryBytes: 64 << 20, vcpus: vcpus);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = bandwidth, MemoryBudget = 1UL << 30 });
        m.Source.Resume();
        Thread.Sleep(300);
        return m;
    }

    [Fact]
    public void Compression_changed_then_switched_off_keeps_cumulative_counters_and_verifies()
    {
        // seq pages shrink to a few dozen bytes each; the guest dirties its 2048 pages 4 times a second, faster than
        // a 128 KiB/s link sends them even compressed, so the scripted passes do not converge early. Once
        // compression is off, 16 MiB/s carries the whole pages.
        using var m = Guest("seq:ws=8M,rate=32", bandwidth: 128 << 10);
        m.Settings.SetCapability(MigrationCapability.Compress, true);
        m.Settings.SetParameters(m.Settings.Parameters with { CompressMethod = "zstd", CompressThreads = 2 });
        var pagesAt = new Dictionary<long, long>();
        void Record(MigrationSource s, long pass) => pagesAt[pass] = s.Info().Compression?.Pages ?? 0;

        var source = ScriptedMigration.Run(m, switchoverAfterPass: 5, new Dictionary<long, Action<MigrationSource>>
        {
            // A new method and thread count replace the worker pipeline; the counters must carry on.
            [3] = s => { Record(s, 3); m.Settings.SetParameters(m.Settings.Parameters with { CompressMethod = "lz4", CompressThreads = 1 }); },
            [4] = s =>
            {
                Record(s, 4);
                m.Settings.SetParameters(m.Settings.Parameters with { MaxBandwidth = 16 << 20 });
                m.Settings.SetCapability(MigrationCapability.Compress, false);
            },
            [5] = s => Record(s, 5),
        });

        long final = source.Info().Compression!.Pages;
        Assert.True(pagesAt[3] > 1000, $"passes 1 and 2 compressed the guest's pages ({pagesAt[3]})");
        Assert.True(pagesAt[4] > pagesAt[3], $"compression-pages is cumulative across the pipeline change: {pagesAt[3]} after pass 2, {pagesAt[4]} after pass 3");
        Assert.Equal(pagesAt[4], pagesAt[5]); // off in pass 4: nothing more compressed
        Assert.Equal(pagesAt[5], final);
        Assert.Contains(m.Log, l => l.Contains("src: compression (lz4, level 1, 1 threads) from pass 3", StringComparison.Ordinal));
        Assert.Contains(m.Log, l => l.Contains("src: compression off from pass 4", StringComparison.Ordinal));
        Assert.Contains(m.Log, l => l.Contains("dst: the source switched compresslz4 off", StringComparison.Ordinal));
    }

    [Fact]
    public void Xbzrle_switched_off_drops_the_cache_and_the_guest_still_verifies()
    {
        using var m = Guest("stride", bandwidth: 16 << 20);
        m.Settings.SetCapability(MigrationCapability.Xbzrle, true);
        m.Settings.SetParameters(m.Settings.Parameters with { XbzrleCacheSize = 32 << 20 });
        XbzrleCacheStats? beforeOff = null;
        long normalBeforeOff = 0;

        var source = ScriptedMigration.Run(m, switchoverAfterPass: 5, new Dictionary<long, Action<MigrationSource>>
        {
            [4] = s =>
            {
                beforeOff = s.Info().XbzrleCache;
                normalBeforeOff = s.Info().Ram!.Normal;
                m.Settings.SetCapability(MigrationCapability.Xbzrle, false);
            },
        });

        var info = source.Info();
        Assert.True(beforeOff!.Pages > 1000 && beforeOff.CacheSize == 32 << 20, $"pass 3 sent the re-dirtied buffer as deltas: {beforeOff}");
        Assert.Equal(0UL, info.XbzrleCache!.CacheSize); // the cache is gone
        Assert.Equal(beforeOff.Pages, info.XbzrleCache.Pages); // no deltas after it
        Assert.True(info.Ram!.Normal > normalBeforeOff, $"from pass 4 on the buffer went whole ({normalBeforeOff} -> {info.Ram.Normal} normal pages)");
        Assert.Contains(m.Log, l => l.Contains("src: xbzrle off from pass 4", StringComparison.Ordinal));
        Assert.Contains(m.Log, l => l.Contains("dst: the source switched xbzrle off", StringComparison.Ordinal));
    }

    [Fact]
    public void Fewer_channels_from_the_next_pass_on()
    {
        // The guest dirties 30 MiB/s, faster than the 16 MiB/s link: the scripted passes do not converge early.
        using var m = Guest("random:ws=8M,rate=30", bandwidth: 16 << 20, vcpus: 2);
        m.Settings.SetCapability(MigrationCapability.Multifd, true);
        m.Settings.SetParameters(m.Settings.Parameters with { MultifdChannels = 4 });
        IReadOnlyList<long>? bytesBefore = null;

        var source = ScriptedMigration.Run(m, switchoverAfterPass: 4, new Dictionary<long, Action<MigrationSource>>
        {
            [3] = s =>
            {
                bytesBefore = s.Info().ChannelBytes!.ToArray();
                m.Settings.SetParameters(m.Settings.Parameters with { MultifdChannels = 2 });
            },
        });

        var info = source.Info();
        Assert.Equal(2, info.Channels);
        Assert.True(bytesBefore![2] > 0 && bytesBefore[3] > 0, $"passes 1 and 2 used all 4 channels: {string.Join(", ", bytesBefore)}");
        Assert.Equal(bytesBefore[2], info.ChannelBytes![2]);
        Assert.Equal(bytesBefore[3], info.ChannelBytes[3]);
        Assert.True(info.ChannelBytes[1] > bytesBefore[1], "passes 3 on went over the 2 remaining channels");
    }

    [Fact]
    public void A_new_xbzrle_cache_size_shows_in_the_statistics_from_the_next_pass()
    {
        using var m = Guest("stride", bandwidth: 16 << 20);
        m.Settings.SetCapability(MigrationCapability.Xbzrle, true);
        m.Settings.SetParameters(m.Settings.Parameters with { XbzrleCacheSize = 8 << 20 });
        var sizeAt = new Dictionary<long, ulong>();
        var missRateAt = new Dictionary<long, double>();
        void Record(MigrationSource s, long pass)
        {
            sizeAt[pass] = s.Info().XbzrleCache!.CacheSize;
            missRateAt[pass] = s.Info().XbzrleCache!.CacheMissRate; // of the pass before
        }

        // Each size applies from the pass it is set before; the stats read when the next pass starts show it. Only
        // passes 1 to 3 must not converge (the later ones are deltas and may): pass 5, if it is the final one,
        // still starts and records.
        var source = ScriptedMigration.Run(m, switchoverAfterPass: 5, new Dictionary<long, Action<MigrationSource>>
        {
            [3] = s => { Record(s, 3); m.Settings.SetParameters(m.Settings.Parameters with { XbzrleCacheSize = 32 << 20 }); },
            [4] = s => { Record(s, 4); m.Settings.SetParameters(m.Settings.Parameters with { XbzrleCacheSize = 24 << 20 }); },
            [5] = s => Record(s, 5),
        });

        Assert.Equal(8UL << 20, sizeAt[3]);
        Assert.Equal(32UL << 20, sizeAt[4]);
        Assert.Equal(24UL << 20, sizeAt[5]);
        // A cache emptied by a resize would miss every page of the next pass (a rate of exactly 1). The grown cache
        // kept the entries of the 8 MiB one, so pass 3 hits on some of them (at most 2048 of its 4096+ pages; how
        // many depends on which pages the guest re-dirtied in time, seen as low as 8%). Pass 3 filled the cache with
        // the whole 16 MiB buffer, and the shrink to 24 MiB (in place) kept most of it, so pass 4 hits on most
        // re-dirtied pages (usually over 75%, seen as low as 72% in a CI run).
        Assert.True(missRateAt[4] < 0.97, $"cache-miss-rate of pass 3, just after growing: {missRateAt[4]}");
        Assert.True(missRateAt[5] < 0.5, $"cache-miss-rate of pass 4, after shrinking: {missRateAt[5]}");
        Assert.Contains(m.Log, l => l.Contains("xbzrle cache 8 MiB -> 32 MiB", StringComparison.Ordinal));
        Assert.Contains(m.Log, l => l.Contains("xbzrle cache 32 MiB -> 24 MiB", StringComparison.Ordinal));
    }
}
