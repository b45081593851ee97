using Tern.Migration.Api;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// How an incoming migration starts, takes its page channels and ends: the ownership of guest RAM against the
/// receiver threads that write it.
/// </summary>
public sealed partial class MigrationDestination
{
    private bool started;
    private Task? running;

    /// <summary>
    /// Runs this destination as the one migration on the listener it was given (tests and benchmarks; a VM host
    /// uses <see cref="IncomingMigrations"/>). The task ends (never faults) when the migration has ended and every
    /// thread that wrote guest RAM has stopped.
    /// </summary>
    public Task RunAsync()
    {
        if (ownListener is null) throw new InvalidOperationException("this destination was made without a listener: an IncomingMigrations starts it");
        if (router is null)
        {
            router = IncomingMigrations.Once(ownListener, this);
            router.Log += Log;
        }
        return Completion;
    }

    /// <summary>Ends when the migration has ended and every thread that wrote guest RAM has stopped (never faults).</summary>
    public Task Completion => completion.Task;

    /// <summary>Abandons the attempt (for example when the operator quits); the copy is discarded.</summary>
    public void Cancel() => Fail(new OperationCanceledException("cancelled on the destination"));

    /// <summary>Whether this attempt has failed or finished, so that a new one may follow once <see cref="Completion"/> ends.</summary>
    internal bool Ending => Volatile.Read(ref failure) is not null || completion.Task.IsCompleted;

    /// <summary>
    /// Starts the migration on <paramref name="main"/>, whose Hello (<paramref name="helloPayload"/>) has arrived, on a
    /// thread of its own; false (and the connection is not taken) if this destination has started or been shut down.
    /// </summary>
    internal bool TryStart(FrameConnection main, ReadOnlyMemory<byte> helloPayload)
    {
        lock (gate)
        {
            if (started) return false;
            if (failure is not null)
            {
                completion.TrySetResult(); // shut down before it began: nothing to wait for
                return false;
            }
            started = true;
            running = Task.Factory.StartNew(() =>
            {
                // Named so that a profile (and the wire benchmark, which counts CPU per thread) tells it from the source's.
                Thread.CurrentThread.Name = "tern incoming main";
                Run(main, helloPayload);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            return true;
        }
    }

    /// <summary>
    /// A page channel of this session connected (its ChannelHello has arrived). Returns null when it is taken, or why
    /// not (the caller closes it then).
    /// </summary>
    internal string? TryAddChannel(FrameConnection connection, ChannelHelloMessage channel)
    {
        HelloMessage? h;
        int allowed;
        lock (gate)
        {
            h = hello;
            allowed = channelsAllowed;
        }
        if (h is null || channel.Session != h.Session) return $"no migration session {channel.Session} is under way here";
        try
        {
            if (channel.Channel == ProtocolConstants.UrgentLane) return AddUrgentLane(connection);
            if (channel.Channel == ProtocolConstants.RecoveredMain) return OfferRecoveredMain(connection);
            string? refusal = connections.AddChannel(connection, channel.Channel, allowed, ReceiveChannel);
            if (refusal is null) Log($"page channel {channel.Channel} connected from {connection.Peer}");
            return refusal;
        }
        catch (ProtocolException e)
        {
            Fail(e);
            return e.Message;
        }
    }

    private void Run(FrameConnection main, ReadOnlyMemory<byte> helloPayload)
    {
        using var watchdog = new Timer(_ => CheckForStall(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        try
        {
            if (!connections.AddMain(main)) throw failure ?? new OperationCanceledException("the destination was shut down");
            SetStatus(MigrationStatus.Setup);
            Welcome(main, helloPayload);
            SetStatus(MigrationStatus.Active);
            var link = main;
            while (true)
            {
                try
                {
                    ReceiveMain(link);
                    break;
                }
                catch (Exception e) when (PostcopyMayPause(e))
                {
                    // After the switch the guest is this side's and some pages are only on the source: never fail.
                    link = PauseUntilRecovered(e);
                }
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref failure, e, null);
            Settle(main, failure);
        }
        finally
        {
            StopReceivers();
            // Complete: RAM is plain memory again and the service can go. Otherwise the failure kept it (see SettlePostcopy).
            if (postcopy is { IsComplete: true } done) done.Dispose();
            else if (postcopy is not null && !GuestRunsHere(state)) postcopy.Requests.Dispose();
            completion.TrySetResult();
        }
    }

    /// <summary>
    /// The attempt failed: keep the paused copy if the source may have committed, otherwise tell the source (when the
    /// link still works) and discard the copy, but only once no receiver can write guest RAM any more.
    /// </summary>
    private void Settle(FrameConnection main, Exception reason)
    {
        bool handOverPending, postcopyRunning;
        lock (gate)
        {
            handOverPending = state == DestinationState.AwaitingCommit;
            postcopyRunning = GuestRunsHere(state);
        }
        if (postcopyRunning)
        {
            SettlePostcopy(reason);
            return;
        }
        // (In post-copy a failure that may follow the source's commit pauses instead: PostcopyMayPause.)
        if (handOverPending && postcopy is null && SourceMayHaveCommitted(reason))
        {
            StopReceivers();
            lock (gate) state = DestinationState.HandOverUncertain;
            Machine = machine;
            Finish(MigrationStatus.Failed,
                $"{(reason is HandOverUncertainException ? "the source's Commit was malformed" : "the link failed during the hand-over")} " +
                $"({Describe(reason)}): this side holds a complete, paused copy. " +
                "If the source is not running the VM, run `cont` here; otherwise quit this side.");
            return;
        }
        if (reason is not RemoteMigrationException) SendBestEffortError(main, Describe(reason));
        StopReceivers();
        // Before Commit: the guest never ran here; the service (if post-copy had begun) may go with the machine.
        if (postcopy is not null && machine is not null) Tern.Machine.Postcopy.PostcopyLaunch.Shutdown(machine, postcopy.Service);
        machine?.Dispose();
        machine = null;
        lock (gate) state = DestinationState.Discarded;
        Finish(MigrationStatus.Failed, $"{Describe(reason)}; the incoming copy was discarded");
    }

    /// <summary>
    /// After Ready, only a broken link (or a cancel here) leaves the outcome open: the source may have written Commit
    /// and lost the connection before it arrived. An Error from the source, or a frame that is not a Commit (unknown,
    /// malformed, out of place), means it did not commit, since Commit is the first thing it sends once it has. A
    /// Commit frame carrying extra bytes was still a Commit, so the copy is kept.
    /// </summary>
    private static bool SourceMayHaveCommitted(Exception reason) => reason switch
    {
        RemoteMigrationException or ProtocolException => false,
        HandOverUncertainException => true,
        OperationCanceledException { InnerException: { } inner } => SourceMayHaveCommitted(inner),
        _ => true,
    };

    /// <summary>Stops every receiver (closing its connection) and waits until each has ended.</summary>
    private void StopReceivers()
    {
        cancel.Cancel();
        barrier.Break(new OperationCanceledException("the migration ended"));
        connections.Close();
        connections.JoinReceivers();
    }
}
