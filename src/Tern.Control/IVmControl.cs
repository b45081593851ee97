using Tern.Migration.Api;

namespace Tern.Control;

/// <summary>
/// What the QMP server needs from a VM process. The VM host implements it; the server turns QMP commands into these
/// calls, one call at a time per client but concurrently across clients, so every member must be thread-safe.
/// Members are called from thread-pool threads and should return promptly: long work (a migration) runs in the
/// background and reports through <see cref="EventRaised"/> and <see cref="QueryMigrate"/>.
/// Refusals are reported by throwing <see cref="VmControlException"/>, whose message reaches the QMP client as the
/// error's <c>desc</c>; any other exception is treated as a bug and reported as an internal error.
/// </summary>
public interface IVmControl
{
    /// <summary><c>query-status</c>: the VM's current run state.</summary>
    RunState RunState { get; }

    /// <summary><c>stop</c>: pauses the vCPUs (raise <c>STOP</c> once they are paused). Stopping a paused VM is a no-op.</summary>
    void Stop();

    /// <summary><c>cont</c>: resumes the vCPUs (raise <c>RESUME</c>). Refuse when the guest cannot run here, for example after it migrated away.</summary>
    void Cont();

    /// <summary>
    /// <c>quit</c>: asks the host to shut the VM down and exit. Returns at once; the host stops the VM (raising
    /// <c>SHUTDOWN</c> with reason <c>host-qmp-quit</c>, as QEMU does) and then disposes the QMP server, which still
    /// flushes the reply to the client that asked.
    /// </summary>
    void Quit();

    /// <summary><c>query-migrate</c>: a snapshot of the current (or last) migration; <see cref="MigrationStatus.None"/> if there was none.</summary>
    MigrationInfo QueryMigrate();

    /// <summary>
    /// <c>x-query-migrate-history</c> (Tern's own): the pass reports of the current (or last) outgoing migration, oldest
    /// first; empty when there was none.
    /// </summary>
    IReadOnlyList<PassReport> QueryMigrateHistory() => [];

    /// <summary>
    /// <c>migrate</c>: starts an outgoing migration to <paramref name="uri"/> (<c>tcp:HOST:PORT</c> or <c>unix:PATH</c>) with the current
    /// capabilities and parameters, and returns at once. Before returning, the status must have left any finished state
    /// (be <see cref="MigrationStatus.Setup"/> or later), so that a <c>query-migrate</c> right after it describes this migration.
    /// Refuse a malformed URI, a migration already under way, or a VM that cannot be migrated.
    /// </summary>
    void StartMigration(string uri);

    /// <summary><c>migrate-incoming</c>: starts listening for an incoming migration on <paramref name="uri"/>; only valid after <c>--incoming defer</c>.</summary>
    void StartIncoming(string uri);

    /// <summary><c>migrate_cancel</c>: cancels the outgoing migration (the guest keeps running here). A no-op when none is under way.</summary>
    void CancelMigration();

    /// <summary><c>migrate-start-postcopy</c>: the outgoing migration switches to post-copy after its current pass.</summary>
    void StartPostcopy();

    /// <summary>
    /// <c>migrate</c> with <c>resume: true</c>: a paused post-copy migration reconnects to <paramref name="uri"/>. Refuse
    /// when no outgoing post-copy migration is paused here.
    /// </summary>
    void ResumeMigration(string uri) => throw new VmControlException("resume continues a paused post-copy migration, and this VM has none");

    /// <summary>
    /// <c>migrate-recover</c>: a paused incoming post-copy migration listens on <paramref name="uri"/> for its source's
    /// resume. Refuse when no incoming post-copy migration is paused here.
    /// </summary>
    void RecoverIncoming(string uri) => throw new VmControlException("migrate-recover recovers a paused incoming post-copy migration, and this VM has none");

    /// <summary><c>migrate-pause</c>: breaks an active post-copy migration's link on purpose (both sides pause).</summary>
    void PauseMigration() => throw new VmControlException("migrate-pause pauses an active post-copy migration, and this VM has none");

    /// <summary><c>query-migrate-capabilities</c>: the state of every capability.</summary>
    IReadOnlyDictionary<MigrationCapability, bool> GetCapabilities();

    /// <summary>
    /// <c>migrate-set-capabilities</c>: applies the named <paramref name="changes"/> (others stay as they are), all or none.
    /// Refuse a change that cannot be made now, e.g. one that cannot change while a migration runs.
    /// </summary>
    void SetCapabilities(IReadOnlyDictionary<MigrationCapability, bool> changes);

    /// <summary><c>query-migrate-parameters</c>: the current parameters.</summary>
    MigrationParameters GetParameters();

    /// <summary>
    /// <c>migrate-set-parameters</c>: replaces the parameters. The server has already applied the client's partial update
    /// onto <see cref="GetParameters"/> and checked <see cref="MigrationParameters.Validate"/>; refuse what cannot change now.
    /// </summary>
    void SetParameters(MigrationParameters parameters);

    /// <summary>
    /// Events forwarded to every QMP client in command mode: <c>MIGRATION</c>, <c>MIGRATION_PASS</c> (as in QEMU, only while
    /// the <c>events</c> capability is on), <c>STOP</c>, <c>RESUME</c>, <c>SHUTDOWN</c>; see <see cref="VmEvent"/>'s factories.
    /// Handlers never block: the server only queues the event, so it may be raised from any thread, even while holding a lock.
    /// </summary>
    event EventHandler<VmEvent>? EventRaised;

    /// <summary>
    /// <c>x-query-guest</c> (Tern's own): what the guest has done so far: its workload, heartbeats and per-vCPU progress
    /// counters. Null when there is no guest here (yet).
    /// </summary>
    GuestStatus? QueryGuest() => null;

    /// <summary>
    /// <c>x-check-guest</c> (Tern's own): pauses the guest (if it runs), reads its counters and checks every byte of its
    /// working set against the workload model, then resumes it. Keep at most <paramref name="maxMismatches"/> mismatches.
    /// Refuse when there is no guest here, while a migration is moving it, or in a state where its RAM is not its own.
    /// </summary>
    GuestCheck CheckGuest(int maxMismatches) => throw new VmControlException("this VM cannot check its guest's memory");

    /// <summary>
    /// <c>calc-dirty-rate</c>: starts measuring the guest's dirty rate over <see cref="DirtyRate.DirtyRateRequest.CalcTimeSeconds"/>
    /// and returns at once (the status is already <c>measuring</c>). The request has been validated. Refuse a second
    /// measurement while one runs, and a mode that needs dirty tracking while a migration uses it.
    /// </summary>
    void CalcDirtyRate(DirtyRate.DirtyRateRequest request) => throw new VmControlException("this VM cannot measure its dirty rate");

    /// <summary><c>query-dirty-rate</c>: the current or last measurement.</summary>
    DirtyRate.DirtyRateInfo QueryDirtyRate() => DirtyRate.DirtyRateInfo.Unstarted;

    /// <summary>
    /// <c>set-vcpu-dirty-limit</c>: limits vCPU <paramref name="cpuIndex"/> (every vCPU when null) to dirtying
    /// <paramref name="megabytesPerSecond"/> MB/s. Refuse an unknown vCPU, a zero rate, and a VM whose dirty tracking
    /// cannot tell vCPUs apart.
    /// </summary>
    void SetVcpuDirtyLimit(long? cpuIndex, ulong megabytesPerSecond) => throw new VmControlException("this VM cannot limit its vCPUs' dirty rates");

    /// <summary><c>cancel-vcpu-dirty-limit</c>: removes the limit of vCPU <paramref name="cpuIndex"/> (of every vCPU when null).</summary>
    void CancelVcpuDirtyLimit(long? cpuIndex) => throw new VmControlException("this VM cannot limit its vCPUs' dirty rates");

    /// <summary><c>query-vcpu-dirty-limit</c>: the vCPUs with a limit.</summary>
    IReadOnlyList<Tern.Migration.Throttle.VcpuDirtyLimit> QueryVcpuDirtyLimit() => [];
}
