using Tern.Migration.Api;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// A migration's status, changed only by atomic transitions from an expected status (QEMU's
/// <c>migrate_set_state</c>): the thread that wins the transition raises <see cref="Changed"/> once, after the change
/// and outside any lock (a handler may call back into <c>Info()</c>); the thread that loses learns it from the
/// result and never overwrites a status it did not expect. A finished status is final.
/// </summary>
/// <remarks>
/// Each transition is raised exactly once. Two transitions won by different threads in quick succession (a cancel
/// while the migration thread finishes) may raise their events in either order; the status itself is always exact.
/// </remarks>
public sealed class MigrationStatusCell(MigrationStatus initial = MigrationStatus.Setup)
{
    private int status = (int)initial;

    /// <summary>Raised by the thread that won a transition, with the new status.</summary>
    public event Action<MigrationStatus>? Changed;

    public MigrationStatus Current => (MigrationStatus)Volatile.Read(ref status);

    /// <summary>
    /// Moves from <paramref name="from"/> to <paramref name="to"/> if the status is still <paramref name="from"/>,
    /// and then raises the event; false (and no event) when another transition came first.
    /// </summary>
    public bool TryTransition(MigrationStatus from, MigrationStatus to)
    {
        if (from == to || from.IsFinished()) return false;
        if (Interlocked.CompareExchange(ref status, (int)to, (int)from) != (int)from) return false;
        Changed?.Invoke(to);
        return true;
    }

    /// <summary>
    /// Moves to <paramref name="to"/> from whatever unfinished status is current (the end of a migration, which may
    /// come from any phase); false when the migration had already finished or was already there.
    /// </summary>
    public bool TryTransitionFromAny(MigrationStatus to)
    {
        while (true)
        {
            var now = Current;
            if (now == to || now.IsFinished()) return false;
            if (TryTransition(now, to)) return true;
        }
    }
}
