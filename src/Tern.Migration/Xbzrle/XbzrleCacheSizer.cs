using Tern.Memory;
using Tern.Os;

namespace Tern.Migration.Xbzrle;

/// <summary>A cache size and the reason for it, for the engine to apply and log.</summary>
/// <param name="Bytes">The size to use; 0 means XBZRLE cannot run (the budget holds less than one cache set).</param>
/// <param name="PreviousBytes">The size before (0 when there was none), so the log can say "from → to".</param>
/// <param name="Reason">One line for the log, e.g. "xbzrle cache 512 MiB → 96 MiB: host memory budget".</param>
public sealed record XbzrleCacheSizeDecision(ulong Bytes, ulong PreviousBytes, string Reason)
{
    public bool Changed => Bytes != PreviousBytes;
    public bool Disabled => Bytes == 0;
    public override string ToString() => Reason;
}

/// <summary>
/// Chooses the XBZRLE cache size, as pure functions of measured numbers so they can be tested on made-up ones.
/// Automatic sizing fits the working set (pages dirtied again in consecutive passes, which are the pages XBZRLE
/// can help with) with <see cref="Headroom"/>, between a floor of <see cref="Minimum"/> and the caps of the host
/// memory budget and guest RAM, and changes size only past the hysteresis thresholds so that a working set that
/// wobbles does not make the cache resize (and lose entries) every pass.
/// </summary>
public static class XbzrleCacheSizer
{
    /// <summary>
    /// The cache holds the working set times this. 4-way sets filled with scattered pages overflow some sets before
    /// the cache is full: at 2/3 occupancy about 7% of the pages would not fit, at full occupancy about 20%.
    /// </summary>
    public const double Headroom = 1.5;

    /// <summary>Automatic sizes are whole MiB (a multiple of <see cref="XbzrlePageCache.SetBytes"/>).</summary>
    public const ulong Granularity = 1UL << 20;

    /// <summary>The smallest automatic size: below this the cache is not worth its bookkeeping.</summary>
    public const ulong Minimum = 1UL << 20;

    /// <summary>Grow only when the wanted size exceeds the current one by more than this factor.</summary>
    public const double GrowFactor = 1.25;

    /// <summary>Shrink only when the wanted size is below the current one times this factor.</summary>
    public const double ShrinkFactor = 0.5;

    /// <summary>
    /// A resize that the budget forces down goes this far below the budget, so that a budget that wobbles from pass
    /// to pass (MemAvailable moves with the kernel's page cache and other processes) does not force another resize,
    /// and the entries each one loses, every pass: the hysteresis of <see cref="ShrinkFactor"/> for budget cuts.
    /// </summary>
    public const double BudgetShrinkMargin = 0.875;

    /// <summary>
    /// Chooses an automatic size from <paramref name="measuredWorkingSetPages"/>. <paramref name="currentSize"/> is the
    /// cache's size now, 0 for the first choice; <paramref name="heldBytes"/> the host memory its storage holds now,
    /// which a resize that grows the cache keeps until the new storage is filled (see <see cref="FitBudget"/>).
    /// </summary>
    public static XbzrleCacheSizeDecision Choose(ulong measuredWorkingSetPages, ulong guestRamBytes, ulong memoryBudgetBytes, ulong currentSize, ulong heldBytes = 0)
    {
        ulong workingSetBytes = SaturatingMultiply(measuredWorkingSetPages, PageSize.Bytes);
        double wanted = Math.Max(workingSetBytes * Headroom, Minimum);
        ulong target = wanted >= ulong.MaxValue / 2 ? ulong.MaxValue / 2 : RoundUp((ulong)wanted, Granularity);
        string why = $"working set {measuredWorkingSetPages} pages ({ByteSize.Format(workingSetBytes)}) + {(Headroom - 1) * 100:0}% headroom";
        if (target == Minimum && workingSetBytes * Headroom < Minimum) why = $"working set {measuredWorkingSetPages} pages, below the {ByteSize.Format(Minimum)} minimum";

        ulong chosen = target;
        if (currentSize != 0 && target <= currentSize * GrowFactor && target >= currentSize * ShrinkFactor)
        {
            chosen = currentSize;
            why = $"{why} wants {ByteSize.Format(target)}, within the hysteresis band";
        }
        return Cap(chosen, currentSize, currentSize, heldBytes, guestRamBytes, memoryBudgetBytes, why);
    }

    /// <summary>
    /// The size for the next pass, as the engine asks for it between passes: the operator's
    /// <paramref name="configuredCacheBytes"/> (0: automatic, from <paramref name="workingSetPages"/>) within the
    /// budget <paramref name="configuredBudgetBytes"/> (0: the default share of <paramref name="host"/>'s available
    /// memory plus what the cache already holds, <paramref name="heldBytes"/>; see <see cref="MemoryBudget.Default"/>).
    /// </summary>
    public static XbzrleCacheSizeDecision ForNextPass(
        ulong configuredCacheBytes, ulong configuredBudgetBytes, HostMemoryInfo host,
        ulong workingSetPages, ulong guestRamBytes, ulong currentSize, ulong heldBytes)
    {
        var budget = MemoryBudget.Resolve(configuredBudgetBytes, host, heldBytes);
        if (configuredCacheBytes != 0) return ForConfigured(configuredCacheBytes, guestRamBytes, budget.Bytes, currentSize, heldBytes);
        // A pass in which no page was dirtied again (the guest idled, or was paused for the final pass) says nothing
        // about the working set: keep the cache, within the budget, rather than shrink it to the minimum and lose
        // the entries the next pass (the final one, often) would hit.
        if (workingSetPages == 0 && currentSize != 0)
            return Cap(currentSize, currentSize, currentSize, heldBytes, guestRamBytes, budget.Bytes, "no page dirtied again in the last pass: size kept");
        return Choose(workingSetPages, guestRamBytes, budget.Bytes, currentSize, heldBytes);
    }

    /// <summary>
    /// Applies the caps to an operator's <c>xbzrle-cache-size</c> (non-zero; 0 means automatic, see
    /// <see cref="Choose"/>): never above the memory budget or guest RAM. <paramref name="currentSize"/> and
    /// <paramref name="heldBytes"/> as for <see cref="Choose"/> (0 before the cache exists).
    /// </summary>
    public static XbzrleCacheSizeDecision ForConfigured(ulong configuredBytes, ulong guestRamBytes, ulong memoryBudgetBytes, ulong currentSize = 0, ulong heldBytes = 0)
    {
        if (configuredBytes == 0)
            throw new ArgumentOutOfRangeException(nameof(configuredBytes), configuredBytes, "0 means automatic sizing: use Choose");
        // Before the cache exists, "from" is the configured size, so the log says what the caps took away.
        ulong previous = currentSize == 0 ? configuredBytes : currentSize;
        return Cap(configuredBytes, previous, currentSize, heldBytes, guestRamBytes, memoryBudgetBytes, "as configured (xbzrle-cache-size)");
    }

    private static XbzrleCacheSizeDecision Cap(ulong wanted, ulong previous, ulong current, ulong held, ulong guestRamBytes, ulong memoryBudgetBytes, string why)
    {
        ulong size = FitBudget(wanted, current, held, memoryBudgetBytes, ref why);
        if (size > guestRamBytes)
        {
            size = guestRamBytes;
            why = "guest RAM";
        }
        // Whole sets only; a cap that leaves less than one set turns XBZRLE off.
        ulong capped = size >= XbzrlePageCache.SetBytes ? size - size % XbzrlePageCache.SetBytes : size / PageSize.Bytes * PageSize.Bytes;
        if (capped == 0)
        {
            return new XbzrleCacheSizeDecision(0, previous,
                $"xbzrle cache disabled: the {why} leaves less than one page ({ByteSize.Format(memoryBudgetBytes)} budget, {ByteSize.Format(guestRamBytes)} guest RAM)");
        }
        string sizes = previous == 0 || previous == capped
            ? ByteSize.Format(capped)
            : $"{ByteSize.Format(previous)} → {ByteSize.Format(capped)}";
        return new XbzrleCacheSizeDecision(capped, previous, $"xbzrle cache {sizes}: {why}");
    }

    /// <summary>
    /// <paramref name="wanted"/> limited by the budget, counting the memory a resize needs while it runs: a cache
    /// shrinks in place (<see cref="XbzrlePageCache.Resize"/>), but while it grows its old storage
    /// (<paramref name="held"/>) and the new one coexist, so it grows only as far as the budget minus what it holds
    /// (and, once the budget limits it, only by more than <see cref="GrowFactor"/>). A cache above the budget
    /// shrinks <see cref="BudgetShrinkMargin"/> below it.
    /// </summary>
    private static ulong FitBudget(ulong wanted, ulong current, ulong held, ulong budget, ref string why)
    {
        if (current == 0 || wanted <= current)
        {
            if (wanted <= budget) return wanted;
            why = "host memory budget";
            return current == 0 ? budget : (ulong)(budget * BudgetShrinkMargin);
        }
        ulong room = budget > held ? budget - held : 0;
        if (wanted <= room) return wanted;
        if (current > budget)
        {
            why = "host memory budget";
            return (ulong)(budget * BudgetShrinkMargin);
        }
        if (room > current * GrowFactor)
        {
            why = "host memory budget, less the old storage held while the cache grows";
            return room;
        }
        why = $"host memory budget: growing from {ByteSize.Format(current)} to at most {ByteSize.Format(Math.Max(room, current))} is within the hysteresis band";
        return current;
    }

    private static ulong RoundUp(ulong value, ulong multiple) => (value + multiple - 1) / multiple * multiple;

    private static ulong SaturatingMultiply(ulong a, ulong b) => a > ulong.MaxValue / b ? ulong.MaxValue : a * b;
}
