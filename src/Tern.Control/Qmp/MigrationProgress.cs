using Tern.Migration.Api;

namespace Tern.Control.Qmp;

/// <summary>A progress report while following a migration: the latest <c>query-migrate</c> and the pass number.</summary>
/// <param name="Pass">The last MIGRATION_PASS number seen, or the dirty sync count if the server sent no such event.</param>
public sealed record MigrationProgress(MigrationInfo Info, long Pass);
