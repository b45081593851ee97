using Tern.Memory;

namespace Tern.Guest;

/// <summary>Which pages writes touch, for dirty-log tests.</summary>
public sealed partial class WorkloadModel
{
    /// <summary>The pages vCPU <paramref name="vcpu"/>'s writes [from, to) touch (the control page not included).</summary>
    public PageSet PagesWritten(int vcpu, ulong from, ulong to)
    {
        CheckRange(from, to);
        var plan = PlanOf(vcpu);
        var set = new PageSet(Layout.RamBytes);
        AddPagesWritten(set, plan, Math.Min(from, plan.WriteLimit), Math.Min(to, plan.WriteLimit));
        return set;
    }

    /// <summary>
    /// The working-set pages that hold data after the vCPUs' writes [0, counters[v]): the pages a dirty log must
    /// have reported since the guest started (plus, possibly, the page of each vCPU's in-flight write).
    /// </summary>
    public PageSet ExpectedWorkingSet(ReadOnlySpan<ulong> counters)
    {
        CheckCounters(counters);
        var set = new PageSet(Layout.RamBytes);
        for (int v = 0; v < _plans.Length; v++)
            AddPagesWritten(set, _plans[v], 0, counters[v]);
        return set;
    }

    private void AddPagesWritten(PageSet set, in VcpuPlan plan, ulong from, ulong to)
    {
        switch (plan.Kind)
        {
            case WorkloadKind.Idle:
            case WorkloadKind.Compute:
                return;
            case WorkloadKind.Stride:
            case WorkloadKind.Seq:
            {
                // Sequential: a range of writes covers a run of consecutive slice pages, wrapping.
                ulong perPage = plan.Kind == WorkloadKind.Stride ? (ulong)StrideSlotsPerPage : 1;
                if (to == from) return;
                ulong firstPage = from / perPage;
                ulong lastPage = (to - 1) / perPage;
                ulong span = lastPage - firstPage + 1;
                if (span >= plan.PagesA)
                {
                    set.AddRange(new PageIndex(plan.FirstPageA), plan.PagesA);
                    return;
                }
                for (ulong p = firstPage; p <= lastPage; p++)
                    set.Add(new PageIndex(plan.FirstPageA + p % plan.PagesA));
                return;
            }
            default:
            {
                // PRNG: replay, but stop once every page the vCPU can reach has been seen.
                ulong reachable = ReachablePages(plan);
                ulong seen = 0;
                for (ulong i = from; i < to && seen < reachable; i++)
                    if (set.Add(new PageIndex(Target(plan, i).Page))) seen++;
                return;
            }
        }
    }

    /// <summary>Pages a PRNG workload can hit: region A unless the hot threshold is 0, region B unless it is 2^32.</summary>
    private static ulong ReachablePages(in VcpuPlan plan) =>
        (plan.HotThreshold > 0 ? plan.PagesA : 0) + (plan.HotThreshold < 1UL << 32 ? plan.PagesB : 0);

    private void CheckCounters(ReadOnlySpan<ulong> counters)
    {
        if (counters.Length != _plans.Length)
            throw new ArgumentException($"{counters.Length} counters given for a guest with {_plans.Length} vCPUs", nameof(counters));
    }
}
