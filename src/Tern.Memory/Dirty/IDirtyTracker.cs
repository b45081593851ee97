namespace Tern.Memory.Dirty;

/// <summary>
/// "Which pages changed since the last sync": the one question the migration engine asks of a dirty-tracking
/// backend. Backends: KVM's dirty log (bitmap), KVM's dirty ring (per vCPU), and software tracking for the
/// simulated guest.
/// </summary>
public interface IDirtyTracker : IDisposable
{
    /// <summary>A short name for reports: "dirty-log", "dirty-log (manual protect)", "dirty-ring", "software".</summary>
    string Name { get; }

    /// <summary>True when <see cref="DirtySyncResult.PerVcpuPages"/> is filled (the dirty ring knows who wrote).</summary>
    bool ReportsPerVcpu { get; }

    bool IsTracking { get; }

    /// <summary>Starts tracking. The first <see cref="Sync"/> reports pages written since this call.</summary>
    void Start();

    /// <summary>
    /// ORs into <paramref name="target"/> every page written since the previous sync (or <see cref="Start"/>) and re-arms
    /// tracking for them. Call it from one thread at a time.
    /// </summary>
    DirtySyncResult Sync(DirtyBitmap target);

    /// <summary>
    /// The last sync before <see cref="Stop"/>, with the guest paused: reports like <see cref="Sync"/>, but need not
    /// re-arm tracking for the pages found. Where re-arming is a step of its own (KVM's manual protect: a
    /// KVM_CLEAR_DIRTY_LOG that write-protects every dirty page again, milliseconds for a working set of hundreds of
    /// MiB) that step is skipped: inside a switchover it is pure downtime, for tracking about to be switched off.
    /// </summary>
    DirtySyncResult SyncLast(DirtyBitmap target) => Sync(target);

    /// <summary>Stops tracking; the guest runs at full speed again.</summary>
    void Stop();
}

/// <summary>What one sync found.</summary>
/// <param name="DirtyPages">Pages reported dirty by this sync (before merging into the target).</param>
/// <param name="PerVcpuPages">Pages dirtied by each vCPU since the previous sync, when the backend knows.</param>
/// <param name="Duration">Time the sync took.</param>
public readonly record struct DirtySyncResult(long DirtyPages, long[]? PerVcpuPages, TimeSpan Duration);
