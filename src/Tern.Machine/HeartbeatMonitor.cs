namespace Tern.Machine;

/// <summary>
/// Counts the guest's heartbeats (about one per millisecond per vCPU) and remembers when they happened, so the host
/// can see the guest's progress rate and any stall. Each vCPU's slot is written only by that vCPU's thread.
/// Times are Unix nanoseconds (wall clock), so two processes on one host, or two hosts with synchronized clocks,
/// can compare them: the guest-observed downtime of a migration is the destination's first beat after resume
/// minus the source's last beat before pause.
/// </summary>
public sealed class HeartbeatMonitor
{
    private readonly Slot[] slots;

    public HeartbeatMonitor(int vcpuCount) => slots = Enumerable.Range(0, vcpuCount).Select(_ => new Slot()).ToArray();

    public int VcpuCount => slots.Length;

    /// <summary>Records a beat from <paramref name="vcpu"/> now. Called on that vCPU's thread.</summary>
    public void Beat(int vcpu)
    {
        long now = NowUnixNanoseconds();
        var s = slots[vcpu];
        long last = s.LastUnixNs;
        if (last != 0)
        {
            long gap = now - last;
            if (gap > s.MaxGapNs) Volatile.Write(ref s.MaxGapNs, gap);
        }
        if (Volatile.Read(ref s.FirstAfterMarkUnixNs) == 0) Volatile.Write(ref s.FirstAfterMarkUnixNs, now);
        Volatile.Write(ref s.LastUnixNs, now);
        Interlocked.Increment(ref s.Count);
    }

    public long Count(int vcpu) => Interlocked.Read(ref slots[vcpu].Count);

    public long TotalCount => slots.Sum(s => Interlocked.Read(ref s.Count));

    /// <summary>The latest beat of any vCPU (Unix ns), or 0 if none yet.</summary>
    public long LastBeatUnixNs => slots.Max(s => Volatile.Read(ref s.LastUnixNs));

    /// <summary>The earliest first beat of any vCPU after the last <see cref="Mark"/> (Unix ns), or 0 if none yet.</summary>
    public long FirstBeatAfterMarkUnixNs
    {
        get
        {
            long first = 0;
            foreach (var s in slots)
            {
                long t = Volatile.Read(ref s.FirstAfterMarkUnixNs);
                if (t != 0 && (first == 0 || t < first)) first = t;
            }
            return first;
        }
    }

    /// <summary>The longest gap between two beats of one vCPU since the last <see cref="Mark"/>, in ns.</summary>
    public long MaxGapNs => slots.Max(s => Volatile.Read(ref s.MaxGapNs));

    /// <summary>Starts a new observation window: resets the first-beat time and the longest gap.</summary>
    public void Mark()
    {
        foreach (var s in slots)
        {
            Volatile.Write(ref s.FirstAfterMarkUnixNs, 0);
            Volatile.Write(ref s.MaxGapNs, 0);
        }
    }

    public static long NowUnixNanoseconds() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    private sealed class Slot
    {
        public long Count;
        public long LastUnixNs;
        public long FirstAfterMarkUnixNs;
        public long MaxGapNs;
    }
}
