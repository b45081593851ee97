using Tern.Migration.Xbzrle;
using Tern.Os;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>
/// The budget as the engine re-reads it between passes, on made-up host numbers: the memory the cache itself holds
/// counts as available to it, a budget that wobbles does not resize the cache every pass, and a cache grows only
/// as far as its old and new storage fit in the budget together.
/// </summary>
public class CacheBudgetFeedbackTests
{
    private const ulong MiB = 1UL << 20, GiB = 1UL << 30;

    private static HostMemoryInfo Host(ulong available) => new(64 * GiB, available, available);

    [Fact]
    public void TheDefaultBudgetCountsWhatTheCacheAlreadyHolds()
    {
        var budget = MemoryBudget.Default(Host(3 * GiB), heldByCaches: GiB);
        Assert.Equal(GiB, budget.Bytes);
        Assert.Contains("+ 1 GiB the cache holds", budget.Reason);
    }

    [Fact]
    public void A_budget_limited_cache_keeps_its_size_pass_after_pass()
    {
        // 4 GiB available before the migration; the working set wants far more than the default budget (1 GiB).
        // Each pass the cache has filled, so MemAvailable is lower by what it holds.
        const ulong availableAtStart = 4 * GiB;
        ulong current = 0, held = 0;
        var sizes = new List<ulong>();
        for (int pass = 2; pass < 12; pass++)
        {
            var decision = XbzrleCacheSizer.ForNextPass(0, 0, Host(availableAtStart - held), workingSetPages: 2_000_000,
                guestRamBytes: 16 * GiB, currentSize: current, heldBytes: held);
            current = held = decision.Bytes;
            sizes.Add(current);
        }
        Assert.All(sizes, s => Assert.Equal(GiB, s));
    }

    [Fact]
    public void A_wobbling_budget_resizes_the_cache_at_most_once()
    {
        ulong[] budgets = [1024 * MiB, 1004 * MiB, 1030 * MiB, 1000 * MiB, 1044 * MiB, 990 * MiB, 1024 * MiB, 1012 * MiB];
        ulong current = 0;
        int resizes = 0;
        foreach (var budget in budgets)
        {
            var decision = XbzrleCacheSizer.ForNextPass(0, budget, Host(64 * GiB), workingSetPages: 2_000_000,
                guestRamBytes: 16 * GiB, currentSize: current, heldBytes: current);
            Assert.True(decision.Bytes <= budget, decision.Reason);
            if (current != 0 && decision.Bytes != current) resizes++;
            current = decision.Bytes;
        }
        Assert.True(resizes <= 1, $"{resizes} resizes for a budget that moves by 5%");
    }

    [Fact]
    public void A_configured_size_above_a_wobbling_budget_is_not_resized_every_pass()
    {
        ulong[] budgets = [512 * MiB, 500 * MiB, 520 * MiB, 505 * MiB, 512 * MiB];
        ulong current = 0;
        int resizes = 0;
        foreach (var budget in budgets)
        {
            var decision = XbzrleCacheSizer.ForNextPass(GiB, budget, Host(64 * GiB), 0, 16 * GiB, current, current);
            Assert.True(decision.Bytes <= budget, decision.Reason);
            if (current != 0 && decision.Bytes != current) resizes++;
            current = decision.Bytes;
        }
        Assert.True(resizes <= 1, $"{resizes} resizes");
    }

    [Fact]
    public void Growing_leaves_room_for_the_old_storage_during_the_resize()
    {
        var decision = XbzrleCacheSizer.Choose(1_000_000, 16 * GiB, GiB, currentSize: 256 * MiB, heldBytes: 256 * MiB);
        Assert.Equal(768 * MiB, decision.Bytes);
        Assert.Contains("old storage", decision.Reason);

        // A cache that has not filled yet holds less, and may grow further.
        Assert.Equal(896 * MiB, XbzrleCacheSizer.Choose(1_000_000, 16 * GiB, GiB, 256 * MiB, heldBytes: 128 * MiB).Bytes);
    }

    [Fact]
    public void Old_and_new_storage_never_exceed_the_budget_together()
    {
        var random = new Random(41);
        for (int n = 0; n < 5000; n++)
        {
            ulong ws = (ulong)random.NextInt64(0, 2_000_000);
            ulong budget = (ulong)random.NextInt64(1, 8L << 30);
            ulong current = (ulong)random.NextInt64(1, 8192) * MiB / 4;
            ulong held = (ulong)(current * random.NextDouble());
            var d = XbzrleCacheSizer.Choose(ws, 64 * GiB, budget, current, held);
            Assert.True(d.Bytes <= budget, d.Reason);
            if (d.Bytes > current) Assert.True(held + d.Bytes <= budget, $"{held} held + {d.Bytes} new > {budget}: {d.Reason}");
            var c = XbzrleCacheSizer.ForConfigured((ulong)random.NextInt64(1, 8L << 30), 64 * GiB, budget, current, held);
            Assert.True(c.Bytes <= budget, c.Reason);
            if (c.Bytes > current) Assert.True(held + c.Bytes <= budget, c.Reason);
        }
    }

    [Fact]
    public void A_pass_with_no_page_dirtied_again_keeps_the_automatic_cache()
    {
        // The final pass runs with the guest paused: often nothing was dirtied in both of the last two passes.
        var kept = XbzrleCacheSizer.ForNextPass(0, GiB, Host(8 * GiB), workingSetPages: 0, 16 * GiB, currentSize: 96 * MiB, heldBytes: 96 * MiB);
        Assert.Equal(96 * MiB, kept.Bytes);
        Assert.Contains("size kept", kept.Reason);
        // Before there is a cache, no working set means none is made.
        Assert.Equal(XbzrleCacheSizer.Minimum, XbzrleCacheSizer.ForNextPass(0, GiB, Host(8 * GiB), 0, 16 * GiB, 0, 0).Bytes);
    }
}
