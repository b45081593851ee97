using System.Diagnostics;
using Tern.Machine.Postcopy;
using Tern.Memory.Postcopy;
using Tern.Migration.Api;
using Tern.Migration.Engine.Postcopy;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>Post-copy's messages on the destination; the work is <see cref="PostcopyReceiver"/>'s.</summary>
public sealed partial class MigrationDestination
{
    private PostcopyReceiver? postcopy;
    private FrameConnection? urgentLane;
    private uint lastPassBegun;

    /// <summary>
    /// Pages of the guest that have not arrived yet (post-copy; 0 otherwise). While any is missing, managed code must
    /// not read guest RAM (docs/ARCHITECTURE.md: a thread blocked on a missing page can stall the GC).
    /// </summary>
    public long PostcopyMissingPages { get { lock (gate) return postcopy?.MissingPages ?? 0; } }

    /// <summary>How long the destination waits for the last pages once the source said it has sent them all.</summary>
    private static readonly TimeSpan LastPagesPatience = TimeSpan.FromSeconds(30);

    /// <summary>Set by PostcopyDiscard (once, before PostcopyBegin): the pages with data it dropped.</summary>
    private long? droppedAhead;
    /// <summary>What PostcopyDiscard chose for the stale pages (<see cref="StalePageChoice"/>); Drop without one.</summary>
    private StalePageHandling staleHandling = StalePageHandling.Drop;

    /// <summary>
    /// PostcopyDiscard: the source is about to switch to post-copy, and these pages are stale here already. They are
    /// dropped now, while the guest still runs on the source, instead of in the pause (for a large working set that
    /// drop is most of the switch: docs/benchmarks.md); PostcopyBegin names them again, and dropping a page twice costs
    /// nothing. The source waits for the answer before it pauses the guest.
    /// </summary>
    private void DiscardAhead(FrameConnection main, ReadOnlyMemory<byte> payload)
    {
        if ((negotiated & (ProtocolCapability.Postcopy | ProtocolCapability.PostcopyDiscard)) != (ProtocolCapability.Postcopy | ProtocolCapability.PostcopyDiscard))
            throw new ProtocolException("PostcopyDiscard arrived, but post-copy discards were not negotiated");
        if (postcopy is not null) throw new ProtocolException("PostcopyDiscard arrived after PostcopyBegin");
        if (finalPassBegun) throw new ProtocolException($"PostcopyDiscard arrived after the final pass {finalPass} began (a migration is pre-copy or post-copy, not both)");
        if (droppedAhead is not null) throw new ProtocolException("PostcopyDiscard arrived twice");
        var discard = PostcopyDiscardMessage.Read(payload.Span, machine!.Memory.PageCount);
        var ram = PostcopyLaunch.RamOf(machine);
        var started = Stopwatch.GetTimestamp();
        // Huge-page RAM cannot take post-copy at all (PostcopyBegin says so); nothing is done for it here.
        var (handling, pages) = StalePageChoice.PrepareAhead(ram, discard.Pages.IsSet);
        staleHandling = handling;
        long dropped = handling == StalePageHandling.Drop ? pages : 0;
        droppedAhead = dropped;
        string took = $"{Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.0} ms";
        Log(handling == StalePageHandling.Drop
            ? $"post-copy ahead of the pause: dropped {dropped} of {discard.Pages.Count()} stale pages in {took}"
            : $"post-copy ahead of the pause: the {discard.Pages.Count()} stale pages will be written over in place (userfaultfd MINOR mode, " +
              $"nothing dropped); mapped the {pages} pages held here in {took}");
        var reply = new PayloadWriter();
        PostcopyDiscardedMessage.Write(reply, (ulong)dropped);
        main.Write(MessageType.PostcopyDiscarded, reply);
        main.Flush();
    }

    /// <summary>PostcopyBegin: the guest is paused on the source; the pages it names are stale here.</summary>
    private void BeginPostcopy(ReadOnlyMemory<byte> payload)
    {
        if ((negotiated & ProtocolCapability.Postcopy) == 0) throw new ProtocolException("PostcopyBegin arrived, but post-copy was not negotiated");
        if (postcopy is not null) throw new ProtocolException("PostcopyBegin arrived twice");
        if (finalPassBegun) throw new ProtocolException($"PostcopyBegin arrived after the final pass {finalPass} began (a migration is pre-copy or post-copy, not both)");
        var begin = PostcopyBeginMessage.Read(payload.Span, machine!.Memory.PageCount);
        if (lastPassBegun > 0)
        {
            // Every page of the passes must be in place before the stale ones are discarded and the rest counted final.
            if (barrier.UnendedBefore(lastPassBegun + 1, 0) is not null)
                throw new ProtocolException($"PostcopyBegin arrived on channel 0 before channel 0 ended pass {lastPassBegun}");
            finalPass = lastPassBegun;
            WaitForFinalPass();
        }
        recordsBeforePostcopy = counters.Records;
        var receiver = new PostcopyReceiver(machine, begin.Stale, (negotiated & ProtocolCapability.Verify) != 0, e => BreakPostcopyLink(e.Message, e), staleHandling)
        {
            DroppedAheadPages = droppedAhead ?? 0,
        };
        lock (gate)
        {
            postcopy = receiver;
            if (urgentLane is not null) receiver.Requests.Attach(urgentLane);
        }
        Log($"post-copy: {begin.Stale.Count()} of {begin.PageCount} pages are stale here and will be fetched");
    }

    /// <summary>The device state in post-copy: restore it with the missing pages served (Complete follows).</summary>
    private void PreparePostcopy(ReadOnlyMemory<byte> deviceState)
    {
        if (deviceStateArrived) throw new ProtocolException("DeviceState arrived twice");
        postcopy!.Prepare(deviceState.Span);
        deviceStateArrived = true;
    }

    /// <summary>
    /// Complete in post-copy: the state is restored and every page of the passes is here (checked against the source's
    /// count); tell the source, echoing Complete's token (Ready). The digest comes with PostcopyDone, not here.
    /// </summary>
    private void ConfirmPostcopy(FrameConnection main, CompleteMessage complete)
    {
        if (!deviceStateArrived) throw new ProtocolException("Complete arrived before DeviceState");
        if (complete.HasDigest) throw new ProtocolException("Complete carries a digest in post-copy (PostcopyDone carries it)");
        if ((ulong)recordsBeforePostcopy != complete.TotalRecords)
            throw new ProtocolException($"the source sent {complete.TotalRecords} page records before post-copy, {recordsBeforePostcopy} arrived");
        var payload = new PayloadWriter();
        new ReadyMessage(false, 0, 0, complete.Token).Write(payload);
        main.Write(MessageType.Ready, payload);
        main.Flush();
        lock (gate) state = DestinationState.AwaitingCommit;
    }

    /// <summary>The page records of the passes, counted at PostcopyBegin (every pass had ended then).</summary>
    private long recordsBeforePostcopy;

    /// <summary>
    /// A failure before the guest resumed here: stop serving missing pages, so that whatever waits for one (a restore,
    /// a simulated vCPU) is released and the attempt can end; the guest never ran here, and the source has every page.
    /// Serialized with <see cref="ResumePostcopy"/> by <see cref="gate"/>: once the guest runs, the service stays.
    /// </summary>
    private void StopPostcopyBeforeResume()
    {
        PostcopyReceiver? receiver;
        lock (gate)
        {
            if (postcopy is null || GuestRunsHere(state)) return;
            receiver = postcopy;
        }
        receiver.Service.Dispose();
    }

    /// <summary>Commit in post-copy: the guest runs here from now on, on the pages that have arrived.</summary>
    private void ResumePostcopy(FrameConnection main)
    {
        lock (gate)
        {
            // A failure first (its service may be stopped): the guest must not run on pages that will never come.
            if (Volatile.Read(ref failure) is { } first) throw new OperationCanceledException("the attempt failed before the guest resumed", first);
            state = DestinationState.PostcopyActive;
            guestResumedHere = true;
        }
        postcopy!.Resume();
        Machine = machine;
        SetStatus(MigrationStatus.PostcopyActive);
        Event?.Invoke(new MigrationGuestResumed(machine!));
        SendResumed(main, Tern.Machine.HeartbeatMonitor.NowUnixNanoseconds(), Stopwatch.GetTimestamp());
        Volatile.Write(ref resumedSent, true);
    }

    /// <summary>The source has been told the guest runs here (Resumed): from then on it pauses too when the link breaks.</summary>
    private bool resumedSent;

    /// <summary>Every page has arrived: RAM is plain memory again; tell the source and finish.</summary>
    private void FinishPostcopy(FrameConnection main)
    {
        var done = postcopy!.Done();
        lock (gate) state = DestinationState.Completed;
        var payload = new PayloadWriter();
        done.Write(payload);
        try
        {
            main.Write(MessageType.PostcopyDone, payload);
            main.Flush();
        }
        catch (Exception e)
        {
            Log($"every page has arrived, but telling the source failed: {e.Message}");
        }
        var stats = postcopy.Stats();
        Log($"post-copy complete: {stats.PagesReceived} pages received, {stats.Faults} faults, {stats.PagesRequested} pages requested, " +
            $"vCPUs blocked {stats.VcpuBlockedMs} ms, last page {stats.LastPageMs} ms after the resume");
        Finish(MigrationStatus.Completed, null);
    }

    /// <summary>The urgent lane connected (ChannelHello with <see cref="ProtocolConstants.UrgentLane"/>).</summary>
    private string? AddUrgentLane(FrameConnection connection)
    {
        if ((negotiated & ProtocolCapability.Postcopy) == 0)
            throw new ProtocolException("the source opened an urgent lane, but post-copy was not negotiated");
        lock (gate)
        {
            if (state is DestinationState.PostcopyPaused or DestinationState.PostcopyRecover)
                return "post-copy is paused here: a recovered migration opens its urgent lane after its main connection";
        }
        var refusal = connections.AddUrgentLane(connection, ReceiveUrgentLane);
        if (refusal is not null) return refusal;
        lock (gate)
        {
            urgentLane = connection;
            postcopy?.Requests.Attach(connection);
        }
        Log($"post-copy urgent lane connected from {connection.Peer}");
        return null;
    }

    /// <summary>The urgent lane's receiver: requested pages only.</summary>
    private void ReceiveUrgentLane(FrameConnection connection)
    {
        try
        {
            while (true)
            {
                var (type, payload) = ReadOrFail(connection);
                PostcopyReceiver? receiver;
                lock (gate) receiver = postcopy;
                if (type != MessageType.PostcopyPages || receiver is null)
                    throw ProtocolException.Unexpected(type, receiver is null ? "before post-copy began, on the urgent lane" : "on the urgent lane");
                receiver.Apply(payload.Span);
            }
        }
        catch (Exception e) when (cancel.IsCancellationRequested)
        {
            _ = e; // the session is ending; the main thread reports why
        }
        catch (Exception e)
        {
            BreakPostcopyLink($"the urgent lane failed ({Describe(e)})", e);
        }
    }

    /// <summary>
    /// A failure after the post-copy commit: the guest is this side's, but some pages exist only on the source. The
    /// machine and the missing-page service are kept (closing the service would hand blocked vCPUs zero pages): the
    /// guest is paused if its vCPUs can be stopped, and those that touch a missing page wait for it.
    /// </summary>
    private void SettlePostcopy(Exception reason)
    {
        StopReceivers();
        long missing = postcopy!.MissingPages;
        bool paused = Task.Run(() => machine!.Pause()).Wait(Tern.Machine.Postcopy.PostcopyLaunch.PauseGrace);
        Machine = machine;
        Finish(MigrationStatus.Failed,
            $"post-copy failed after the switch ({Describe(reason)}) with {missing} pages still on the source: the guest is " +
            (paused ? "paused here" : "here, its vCPUs waiting for the missing pages") +
            "; every page that arrived is kept, and the source keeps the rest (its guest is paused). Do not run the guest on the source.");
    }

    private PostcopyPause? pause;
    private PostcopyGuestHold? hold;
    /// <summary>Why the current post-copy link broke, when a thread other than the main one found out first.</summary>
    private string? linkBreak;
    private long earlierLinksBytes;

    /// <summary>The guest has resumed here in post-copy and its missing pages are still to come (running or paused).</summary>
    private static bool GuestRunsHere(DestinationState s) =>
        s is DestinationState.PostcopyActive or DestinationState.PostcopyPaused or DestinationState.PostcopyRecover;

    /// <summary>
    /// A failure of the main thread (<paramref name="e"/>) now pauses post-copy instead of ending the migration: after
    /// the resume, and also between Ready and Commit when the link broke there. The source may then have committed, its
    /// Commit lost with the link: its guest stays paused with every page and it pauses too, and only a recovery (which
    /// it starts only once it has committed) can finish the migration. Discarding the copy here would lose the VM.
    /// </summary>
    private bool PostcopyMayPause(Exception e)
    {
        lock (gate)
        {
            if (postcopy is null || cancel.IsCancellationRequested) return false;
            return state == DestinationState.PostcopyActive || (state == DestinationState.AwaitingCommit && SourceMayHaveCommitted(e));
        }
    }

    /// <summary>The guest has run here (the source's Commit, or a recovery after a Commit that was lost).</summary>
    private bool guestResumedHere;

    /// <summary>
    /// A thread other than the main one found the post-copy link broken (the urgent lane, the page-request writer,
    /// migrate-pause): after the resume, closing the link's connections makes the main thread pause; before it, the
    /// attempt fails as usual (the source still has the VM).
    /// </summary>
    private void BreakPostcopyLink(string what, Exception e)
    {
        DestinationConnections? broken = null;
        bool beforeResume;
        lock (gate)
        {
            if (state == DestinationState.Completed) return; // every page is here: the source closing its lanes is the end
            // Between Ready and Commit the source may have committed: the main thread pauses then too (PostcopyMayPause).
            bool mayPause = state is DestinationState.PostcopyActive or DestinationState.AwaitingCommit;
            beforeResume = !GuestRunsHere(state) && !mayPause;
            if (mayPause)
            {
                linkBreak ??= what;
                broken = connections;
            }
        }
        if (beforeResume) Fail(e);
        broken?.Close(); // the main thread's read fails, and it pauses
    }

    /// <summary><c>migrate-pause</c> on the destination: breaks the post-copy link on purpose.</summary>
    public void PausePostcopy()
    {
        lock (gate)
        {
            if (state != DestinationState.PostcopyActive)
                throw new InvalidOperationException($"migrate-pause pauses an active post-copy migration, and the incoming one is {status.ToQapi()}");
            if (!Volatile.Read(ref resumedSent))
                throw new InvalidOperationException("post-copy is still starting (the source has not yet been told that the guest resumed here): try again in a moment");
        }
        BreakPostcopyLink("migrate-pause on the destination", new IOException("paused by the operator"));
    }

    /// <summary>
    /// <c>migrate-recover</c>: a paused post-copy takes the source's new main connection from now on (the caller listens
    /// on the new address). Refused, saying why, unless post-copy is paused here.
    /// </summary>
    public void RecoverPostcopy()
    {
        lock (gate)
        {
            if (state == DestinationState.PostcopyRecover)
                throw new InvalidOperationException("migrate-recover was already run: waiting for the source to resume (migrate with resume: true)");
            if (state != DestinationState.PostcopyPaused || pause is null)
                throw new InvalidOperationException($"migrate-recover recovers a paused post-copy migration, and the incoming one is {status.ToQapi()}");
            pause.BeginRecovery();
            state = DestinationState.PostcopyRecover;
        }
        SetStatus(MigrationStatus.PostcopyRecover);
        Log("post-copy recovery: waiting for the source to resume (migrate with resume: true)");
    }

    /// <summary>The source's new main connection (ChannelHello with <see cref="ProtocolConstants.RecoveredMain"/>).</summary>
    private string? OfferRecoveredMain(FrameConnection connection)
    {
        PostcopyPause? p;
        lock (gate) p = pause;
        if (p is null) return "post-copy is not paused on this destination: there is nothing to recover";
        var refusal = p.Offer(connection);
        if (refusal is null) Log($"post-copy recovery: the source connected from {connection.Peer}");
        return refusal;
    }

    /// <summary>
    /// The post-copy link broke: hold the guest with every page that arrived, wait for <c>migrate-recover</c> and the
    /// source's new main connection, tell the source which pages are here (PostcopyReceived), and go on. A recovery
    /// whose link breaks too pauses again. Throws only when the destination shuts down.
    /// </summary>
    private FrameConnection PauseUntilRecovered(Exception cause)
    {
        string what;
        lock (gate) what = linkBreak ?? $"the main connection failed ({Describe(cause)})";
        while (true)
        {
            var p = Pause(what);
            var link = p.WaitForLink(cancel.Token);
            try
            {
                Reconcile(link);
                return link;
            }
            catch (Exception e) when (!cancel.IsCancellationRequested)
            {
                what = $"the recovered main connection failed ({Describe(e)})";
            }
        }
    }

    private PostcopyPause Pause(string what)
    {
        lock (gate) state = DestinationState.PostcopyPaused;
        // The broken link's receivers end first, so that no page from it arrives after the snapshot for the source.
        var old = connections;
        old.Close();
        old.JoinReceivers();
        postcopy!.Requests.Detach();
        lock (gate)
        {
            earlierLinksBytes += old.BytesRead;
            connections = new DestinationConnections();
            urgentLane = null;
            linkBreak = null;
        }
        hold ??= new PostcopyGuestHold(machine!);
        bool paused = hold.Hold(Tern.Machine.Postcopy.PostcopyLaunch.PauseGrace);
        long missing = postcopy.MissingPages;
        string size = Tern.Memory.ByteSize.Format((ulong)missing * Tern.Memory.PageSize.Bytes);
        bool resumed;
        lock (gate) resumed = guestResumedHere;
        var reason = resumed
            ? $"post-copy paused: {what}; {missing} pages ({size}) are only on the source. The guest is " +
              $"{(paused ? "paused" : "held (its vCPUs wait for their missing pages)")} here with every page that arrived; " +
              "run migrate-recover here and migrate with resume: true on the source to finish the migration. Do not run the guest on the source."
            : $"post-copy paused before the guest ran here: {what} after Ready, and the source's Commit did not arrive (it may have been " +
              $"sent); {missing} pages ({size}) are only on the source. If the source committed (its status is postcopy-paused), run " +
              "migrate-recover here and migrate with resume: true there: the guest then resumes here. If the source runs the guest, quit this side.";
        var p = new PostcopyPause(reason);
        lock (gate) pause = p;
        if (resumed) Event?.Invoke(new MigrationGuestHeld(reason)); // the host reports the guest paused before the status says why
        SetStatus(MigrationStatus.PostcopyPaused);
        Log(reason);
        return p;
    }

    /// <summary>Takes the recovered link and tells the source which pages are here; the guest runs again.</summary>
    private void Reconcile(FrameConnection link)
    {
        if (!connections.AddMain(link)) throw new IOException("the recovered connection arrived as the destination shut down");
        var received = postcopy!.ReceivedSnapshot();
        var payload = new PayloadWriter();
        PostcopyReceivedMessage.Write(payload, received);
        lock (gate)
        {
            // Before the source can read PostcopyReceived: it opens the urgent lane right after.
            state = DestinationState.PostcopyActive;
        }
        link.Write(MessageType.PostcopyReceived, payload);
        link.Flush();
        postcopy.Recoveries++;
        bool firstResume;
        lock (gate)
        {
            pause = null;
            firstResume = !guestResumedHere;
            guestResumedHere = true;
        }
        if (firstResume)
        {
            // Commit was lost with the link: a source resumes post-copy only once it has committed, so this is its commit.
            postcopy.Resume();
            Machine = machine;
            Volatile.Write(ref resumedSent, true);
            Event?.Invoke(new MigrationGuestResumed(machine!));
            Log("the source resumed a post-copy whose Commit was lost: the guest runs here from now on");
        }
        else
        {
            hold!.Release();
            Event?.Invoke(new MigrationGuestReleased());
        }
        SetStatus(MigrationStatus.PostcopyActive);
        Log($"post-copy recovered on a new connection from {link.Peer}: {received.Count()} pages here, {postcopy.MissingPages} still to come from the source");
    }
}
