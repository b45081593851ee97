using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine.Source;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine;

/// <summary>
/// One outgoing migration: owns the connections, counters and decisions for its lifetime, and the machine while it
/// runs. The guest keeps running on this side until the destination confirms that it holds everything
/// (<see cref="MessageType.Ready"/>); only then does the source commit and give it up. Any failure before that
/// resumes the guest here. See docs/protocol.md for the sequence. The work is done by a <see cref="SourceSession"/>
/// and its phases; this is the face that the VM host and the tests use.
/// </summary>
public sealed class MigrationSource : IDisposable
{
    public static readonly TimeSpan DefaultReplyTimeout = SourceSession.DefaultReplyTimeout;

    private readonly SourceSession session;

    /// <param name="machine">The VM to migrate; the migration owns it while it runs.</param>
    /// <param name="settings">The operator's capabilities and parameters (changes apply from the next pass).</param>
    /// <param name="planner">Decides each pass (encodings, throttle, what next); null for <see cref="DefaultPassPlanner"/>. One per migration.</param>
    public MigrationSource(IVirtualMachine machine, MigrationSettings settings, IPassPlanner? planner = null) =>
        session = new SourceSession(machine, settings, planner);

    /// <summary>How long the source waits for Welcome, and for Resumed after Commit (tests shorten it).</summary>
    internal TimeSpan ReplyTimeout { get => session.ReplyTimeout; init => session.ReplyTimeout = value; }

    /// <summary>No write progress for this long means the destination stopped reading (tests shorten it).</summary>
    internal TimeSpan WriteStallLimit { get => session.WriteStallLimit; init => session.WriteStallLimit = value; }

    /// <summary>Status changes, passes and decisions, raised on the migration thread.</summary>
    public event Action<MigrationEvent>? Event
    {
        add => session.Event += value;
        remove => session.Event -= value;
    }

    public MigrationStatus Status => session.Status;

    /// <summary>How the migration ended, and so who has the VM; <see cref="MigrationOutcome.Running"/> until then.</summary>
    public MigrationOutcome Outcome => session.Outcome;

    public RamCounters Counters => session.Counters;

    /// <summary>The passes so far (the most recent <see cref="PassHistory.Capacity"/>), oldest first.</summary>
    public IReadOnlyList<PassReport> History => session.History;

    /// <summary>Asks the migration to stop; the guest stays (or resumes) on the source unless the hand-over was committed.</summary>
    public void Cancel() => session.Cancel();

    /// <summary>
    /// <c>migrate-start-postcopy</c>: switch to post-copy after the current pass. Throws
    /// <see cref="InvalidOperationException"/> naming why not (postcopy-ram off, no pre-copy under way, already post-copy).
    /// </summary>
    public void StartPostcopy() => session.RequestPostcopy();

    /// <summary>
    /// <c>migrate</c> with <c>resume: true</c>: a paused post-copy migration reconnects to <paramref name="destination"/>
    /// (where <c>migrate-recover</c> listens). Throws <see cref="InvalidOperationException"/> naming why not (not paused,
    /// a resume already under way).
    /// </summary>
    public void ResumePostcopy(IMigrationTransport destination) => session.ResumePostcopy(destination);

    /// <summary>
    /// The host shuts down: a post-copy migration paused here stops waiting for a resume and ends (the guest stays
    /// paused with every page; the hand-over stays committed). <see cref="Cancel"/> refuses that, as the operator's
    /// <c>migrate_cancel</c> after the commit must.
    /// </summary>
    public void Abandon() => session.Abandon();

    /// <summary><c>migrate-pause</c>: breaks an active post-copy migration's link on purpose (it pauses).</summary>
    public void PausePostcopy() => session.RequestPause();

    /// <summary>Runs the whole migration on a dedicated thread; the task ends (never faults) when it has finished.</summary>
    public Task RunAsync(MigrationUri destination) => RunAsync(destination.CreateTransport());

    /// <summary>As <see cref="RunAsync(MigrationUri)"/>, over a transport given directly (in-process, fault-injecting).</summary>
    public Task RunAsync(IMigrationTransport destination) =>
        Task.Factory.StartNew(() => session.Run(destination), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>A <c>query-migrate</c> snapshot.</summary>
    public MigrationInfo Info() => session.Info();

    public void Dispose() => session.Dispose();
}

/// <summary>How a migration ended, as far as the VM is concerned.</summary>
public enum MigrationOutcome
{
    Running,
    /// <summary>The destination runs the VM; the source has given it up.</summary>
    Completed,
    /// <summary>The migration failed or was cancelled before the hand-over: the VM runs on the source.</summary>
    SourceKeepsVm,
    /// <summary>The link failed between commit and confirmation: both sides are paused; <c>cont</c> on the one that should keep the VM.</summary>
    HandOverUncertain,
}

/// <summary>The pass planner decided to give up (its reason is the message); the guest keeps running on the source.</summary>
public sealed class PassPlanAbortException(string reason) : Exception(reason);

/// <summary>The destination reported an error over the return path.</summary>
public sealed class RemoteMigrationException(string message) : Exception(message);

/// <summary>The link failed after the commit was sent and before the destination confirmed it.</summary>
public sealed class HandOverUncertainException(string message, Exception? inner = null) : Exception(message, inner);
