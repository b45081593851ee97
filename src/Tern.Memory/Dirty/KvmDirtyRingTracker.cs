using System.Diagnostics;
using Tern.Kvm;

namespace Tern.Memory.Dirty;

/// <summary>
/// Dirty tracking with KVM's per-vCPU dirty rings. Each vCPU's ring lists the pages it dirtied, so this backend also
/// knows per-vCPU dirty counts (the input for per-vCPU dirty-rate limits). Rings are harvested by <see cref="Sync"/>
/// and, when one fills up, by its vCPU thread through <see cref="HarvestFullRing"/>; each ring has a lock because
/// both can happen at once.
/// </summary>
public sealed class KvmDirtyRingTracker : IDirtyTracker
{
    private readonly KvmVm vm;
    private readonly IReadOnlyList<MemorySlot> slots;
    private readonly IReadOnlyList<KvmDirtyRing> rings;
    private readonly object[] ringLocks;
    private readonly DirtyBitmap pending;
    private readonly long[] perVcpu;
    private readonly Dictionary<uint, ulong> slotFirstPage;
    private readonly Action<uint, ulong>[] sinks;
    private volatile bool tracking;

    public KvmDirtyRingTracker(KvmVm vm, IReadOnlyList<MemorySlot> slots, IReadOnlyList<KvmDirtyRing> rings, ulong guestPageCount)
    {
        this.vm = vm;
        this.slots = slots;
        this.rings = rings;
        ringLocks = rings.Select(_ => new object()).ToArray();
        pending = new DirtyBitmap(guestPageCount);
        perVcpu = new long[rings.Count];
        slotFirstPage = slots.ToDictionary(s => s.Slot, s => s.FirstPage.Value);
        // One sink per ring, made once, so harvesting does not allocate.
        sinks = Enumerable.Range(0, rings.Count).Select(v => (Action<uint, ulong>)((slot, offset) => Record(v, slot, offset))).ToArray();
    }

    public string Name => "dirty-ring";
    public bool ReportsPerVcpu => true;
    public bool IsTracking => tracking;

    /// <summary>Entries in each vCPU's ring: how many pages a vCPU may dirty before its ring is full and it exits.</summary>
    public int RingEntries => rings.Count == 0 ? 0 : rings[0].Capacity;

    public void Start()
    {
        if (tracking) return;
        DrainRings(); // discard anything left from an earlier round
        pending.ClearAll();
        Array.Clear(perVcpu);
        foreach (var s in slots) vm.SetUserMemoryRegion(s.Slot, s.GuestStart.Value, s.Size, s.HostAddress, logDirtyPages: true);
        tracking = true;
    }

    /// <summary>
    /// Called on a vCPU thread after <c>KVM_EXIT_DIRTY_RING_FULL</c>: collects that ring and recycles it so the vCPU can
    /// continue.
    /// </summary>
    public void HarvestFullRing(int vcpu)
    {
        lock (ringLocks[vcpu]) rings[vcpu].Harvest(sinks[vcpu]);
        vm.ResetDirtyRings();
    }

    public DirtySyncResult Sync(DirtyBitmap target)
    {
        if (!tracking) throw new InvalidOperationException("dirty tracking is not started");
        var started = Stopwatch.GetTimestamp();
        DrainRings();
        var counts = new long[perVcpu.Length];
        for (int i = 0; i < counts.Length; i++) counts[i] = Interlocked.Exchange(ref perVcpu[i], 0);
        long dirty = pending.DrainInto(target);
        return new DirtySyncResult(dirty, counts, Stopwatch.GetElapsedTime(started));
    }

    private void DrainRings()
    {
        for (int v = 0; v < rings.Count; v++)
        {
            lock (ringLocks[v]) rings[v].Harvest(sinks[v]);
        }
        vm.ResetDirtyRings();
    }

    private void Record(int vcpu, uint slot, ulong offset)
    {
        if (!slotFirstPage.TryGetValue(slot, out var first)) return; // a slot Tern does not track
        pending.SetAtomic(new PageIndex(first + offset));
        Interlocked.Increment(ref perVcpu[vcpu]);
    }

    public void Stop()
    {
        if (!tracking) return;
        tracking = false;
        foreach (var s in slots) vm.SetUserMemoryRegion(s.Slot, s.GuestStart.Value, s.Size, s.HostAddress, logDirtyPages: false);
        DrainRings();
    }

    public void Dispose() => tracking = false;
}
