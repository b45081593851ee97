using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Migration.Engine;

/// <summary>Something the operator may want to hear about at once (QMP events MIGRATION and MIGRATION_PASS).</summary>
public abstract record MigrationEvent;

/// <summary>The migration status changed.</summary>
public sealed record MigrationStatusChanged(MigrationStatus Status) : MigrationEvent;

/// <summary>A dirty-page sync started pass <see cref="Pass"/>.</summary>
public sealed record MigrationPassStarted(long Pass) : MigrationEvent;

/// <summary>A pass was sent (and, before the switchover, the dirty log synced after it): what it did and found.</summary>
public sealed record MigrationPassCompleted(Api.PassReport Report) : MigrationEvent;

/// <summary>A line for the operator's log: what the engine decided and why.</summary>
public sealed record MigrationLog(string Text) : MigrationEvent;

/// <summary>The source is about to pause the guest for the final copy.</summary>
public sealed record MigrationSwitchoverStarted : MigrationEvent;

/// <summary>
/// The destination confirmed that it holds everything (Ready, verified when verifying); the source is about to commit
/// the hand-over. Until Commit is written a cancel still keeps the VM on the source.
/// </summary>
public sealed record MigrationDestinationReady : MigrationEvent;

/// <summary>
/// The destination runs the guest now (the source committed the hand-over). Raised before the destination tells the
/// source and finishes, so that whoever hosts the VM can report it running from this moment.
/// </summary>
public sealed record MigrationGuestResumed(IVirtualMachine Machine) : MigrationEvent;

/// <summary>
/// Post-copy paused on the destination (the link broke, or migrate-pause): the guest is held paused here, and
/// <see cref="Reason"/> says why and what is still on the source. Raised before the status turns postcopy-paused, so
/// whoever hosts the VM reports it paused from the moment the status says so.
/// </summary>
public sealed record MigrationGuestHeld(string Reason) : MigrationEvent;

/// <summary>Post-copy recovered on the destination: the guest runs again. Raised before the status turns postcopy-active.</summary>
public sealed record MigrationGuestReleased : MigrationEvent;
