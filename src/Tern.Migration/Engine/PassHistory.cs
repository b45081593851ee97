using Tern.Migration.Api;

namespace Tern.Migration.Engine;

/// <summary>
/// The last <see cref="Capacity"/> pass reports of one migration, oldest first. Bounded so that a migration that
/// never converges (thousands of passes) cannot grow it without limit; <see cref="Dropped"/> says how many older
/// passes fell out. Written by the migration thread, read by anyone.
/// </summary>
public sealed class PassHistory
{
    public const int Capacity = 512;

    private readonly Queue<PassReport> reports = new();
    private long dropped;

    public void Add(PassReport report)
    {
        lock (reports)
        {
            if (reports.Count == Capacity)
            {
                reports.Dequeue();
                dropped++;
            }
            reports.Enqueue(report);
        }
    }

    public IReadOnlyList<PassReport> Snapshot()
    {
        lock (reports) return reports.ToArray();
    }

    /// <summary>How many of the earliest reports were dropped to stay within <see cref="Capacity"/>.</summary>
    public long Dropped { get { lock (reports) return dropped; } }
}
