using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Automatic sizing on made-up measurements: fit with headroom, caps, floor, granularity, hysteresis.</summary>
public class CacheSizerTests
{
    private const ulong MiB = 1UL << 20, GiB = 1UL << 30;

    [Fact]
    public void FitsTheWorkingSetWithHeadroom()
    {
        var decision = XbzrleCacheSizer.Choose(measuredWorkingSetPages: 16384, guestRamBytes: 4 * GiB, memoryBudgetBytes: GiB, currentSize: 0);
        Assert.Equal(96 * MiB, decision.Bytes);
        Assert.Equal("xbzrle cache 96 MiB: working set 16384 pages (64 MiB) + 50% headroom", decision.Reason);
    }

    [Fact]
    public void RoundsUpToWholeMiB()
    {
        var decision = XbzrleCacheSizer.Choose(1000, 4 * GiB, GiB, 0); // 1000 pages * 1.5 = 5.86 MiB
        Assert.Equal(6 * MiB, decision.Bytes);
        Assert.Equal(0UL, decision.Bytes % XbzrlePageCache.SetBytes);
    }

    [Fact]
    public void NeverBelowTheFloor()
    {
        Assert.Equal(XbzrleCacheSizer.Minimum, XbzrleCacheSizer.Choose(0, 4 * GiB, GiB, 0).Bytes);
        Assert.Equal(XbzrleCacheSizer.Minimum, XbzrleCacheSizer.Choose(10, 4 * GiB, GiB, 0).Bytes);
    }

    [Fact]
    public void NeverAboveTheBudget()
    {
        var decision = XbzrleCacheSizer.Choose(1_000_000, 64 * GiB, 96 * MiB, 0);
        Assert.Equal(96 * MiB, decision.Bytes);
        Assert.EndsWith("host memory budget", decision.Reason);
    }

    [Fact]
    public void NeverAboveGuestRam()
    {
        var decision = XbzrleCacheSizer.Choose(1_000_000, 2 * GiB, 64 * GiB, 0);
        Assert.Equal(2 * GiB, decision.Bytes);
        Assert.EndsWith("guest RAM", decision.Reason);
    }

    [Fact]
    public void SmallChangesKeepTheCurrentSize()
    {
        // 64 MiB now; the working set wants 72 MiB (not 25% more) or 36 MiB (not below half): keep 64 MiB.
        var up = XbzrleCacheSizer.Choose(12288, 4 * GiB, GiB, 64 * MiB);
        Assert.Equal(64 * MiB, up.Bytes);
        Assert.False(up.Changed);
        Assert.Contains("hysteresis", up.Reason);
        var down = XbzrleCacheSizer.Choose(6144, 4 * GiB, GiB, 64 * MiB);
        Assert.Equal(64 * MiB, down.Bytes);
    }

    [Fact]
    public void LargeChangesResize()
    {
        var up = XbzrleCacheSizer.Choose(16384, 4 * GiB, GiB, 64 * MiB); // wants 96 MiB
        Assert.Equal(96 * MiB, up.Bytes);
        Assert.True(up.Changed);
        Assert.StartsWith("xbzrle cache 64 MiB → 96 MiB: working set", up.Reason);
        var down = XbzrleCacheSizer.Choose(2048, 4 * GiB, GiB, 64 * MiB); // wants 12 MiB
        Assert.Equal(12 * MiB, down.Bytes);
    }

    [Fact]
    public void CapsOverrideHysteresis()
    {
        // A budget cut below the current size forces a shrink, to BudgetShrinkMargin (7/8) of the budget.
        var decision = XbzrleCacheSizer.Choose(16000, 4 * GiB, 40 * MiB, 64 * MiB);
        Assert.Equal(35 * MiB, decision.Bytes);
        Assert.Equal("xbzrle cache 64 MiB → 35 MiB: host memory budget", decision.Reason);
    }

    [Fact]
    public void ConfiguredSizeIsClampedWithAReason()
    {
        var decision = XbzrleCacheSizer.ForConfigured(512 * MiB, 4 * GiB, 96 * MiB);
        Assert.Equal(96 * MiB, decision.Bytes);
        Assert.Equal(512 * MiB, decision.PreviousBytes);
        Assert.Equal("xbzrle cache 512 MiB → 96 MiB: host memory budget", decision.Reason);

        var kept = XbzrleCacheSizer.ForConfigured(512 * MiB, 4 * GiB, GiB);
        Assert.Equal(512 * MiB, kept.Bytes);
        Assert.False(kept.Changed);
        Assert.Equal("xbzrle cache 512 MiB: as configured (xbzrle-cache-size)", kept.Reason);
        Assert.Throws<ArgumentOutOfRangeException>(() => XbzrleCacheSizer.ForConfigured(0, GiB, GiB));
    }

    [Fact]
    public void ABudgetBelowOnePageDisablesXbzrle()
    {
        var decision = XbzrleCacheSizer.Choose(100, 4 * GiB, 1000, 0);
        Assert.True(decision.Disabled);
        Assert.StartsWith("xbzrle cache disabled", decision.Reason);
    }

    [Fact]
    public void ResultsAreUsableCacheSizes()
    {
        var random = new Random(8);
        for (int n = 0; n < 2000; n++)
        {
            ulong ws = (ulong)random.NextInt64(0, 10_000_000);
            ulong ram = (ulong)random.NextInt64(1, 256) * GiB / 8;
            ulong budget = (ulong)random.NextInt64(0, 64L << 30);
            ulong current = random.Next(3) == 0 ? 0 : (ulong)random.NextInt64(1, 4096) * MiB;
            var d = XbzrleCacheSizer.Choose(ws, ram, budget, current);
            Assert.True(d.Bytes <= budget && d.Bytes <= ram, d.Reason);
            if (!d.Disabled) Assert.Equal(d.Bytes, new XbzrlePageCache(d.Bytes).CapacityBytes);
        }
    }
}
