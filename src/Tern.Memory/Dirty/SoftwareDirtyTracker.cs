using System.Diagnostics;

namespace Tern.Memory.Dirty;

/// <summary>
/// Dirty tracking done by the writers themselves: the simulated guest's workload threads call <see cref="MarkDirty"/>
/// for every page they write, after writing it. Thread-safe for any number of writers and one syncing thread.
/// </summary>
public sealed class SoftwareDirtyTracker : IDirtyTracker
{
    private readonly DirtyBitmap pending;
    private readonly long[] perVcpu;
    private volatile bool tracking;

    public SoftwareDirtyTracker(ulong pageCount, int vcpuCount)
    {
        pending = new DirtyBitmap(pageCount);
        perVcpu = new long[vcpuCount];
    }

    public string Name => "software";
    public bool ReportsPerVcpu => true;
    public bool IsTracking => tracking;

    /// <summary>Records a write by <paramref name="vcpu"/>. Cheap when tracking is off.</summary>
    public void MarkDirty(PageIndex page, int vcpu)
    {
        if (!tracking) return;
        if (!pending.IsSet(page))
        {
            pending.SetAtomic(page);
            Interlocked.Increment(ref perVcpu[vcpu]);
        }
    }

    public void Start()
    {
        pending.ClearAll();
        Array.Clear(perVcpu);
        tracking = true;
    }

    public DirtySyncResult Sync(DirtyBitmap target)
    {
        var started = Stopwatch.GetTimestamp();
        var counts = new long[perVcpu.Length];
        for (int i = 0; i < counts.Length; i++) counts[i] = Interlocked.Exchange(ref perVcpu[i], 0);
        long dirty = pending.DrainInto(target);
        return new DirtySyncResult(dirty, counts, Stopwatch.GetElapsedTime(started));
    }

    public void Stop() => tracking = false;

    public void Dispose() => tracking = false;
}
