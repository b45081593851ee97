namespace Tern.Migration.Engine.Source;

/// <summary>
/// One phase of an outgoing migration: setup, pre-copy, switchover, hand-over (a post-copy phase comes later). Each
/// works on the migration's <see cref="SourceSession"/> and says which phase follows it, so the order is decided
/// where the knowledge is (after pre-copy, by the plan). A phase that fails throws; the session then ends the
/// migration, and who keeps the VM depends only on whether the hand-over was committed.
/// </summary>
internal abstract class SourcePhase(SourceSession session)
{
    protected SourceSession Session { get; } = session;

    /// <summary>Runs the phase to its end; returns the phase that follows, or null when the migration is complete.</summary>
    public abstract SourcePhase? Run();
}
