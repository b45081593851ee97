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
        var receiver = new PostcopyReceiver(machine, begin.Stale, (negotiated & ProtocolCapability.Verify) != 0, Fail);
        lock (gate)
        {
            postcopy = receiver;
            if (urgentLane is not null) receiver.Requests.Attach(urgentLane);
        }
        Log($"post-copy: {begin.Stale.Count()} of {begin.PageCount} pages are stale here and will be fetched");
    }

    /// <summary>The device state in post-copy: restore it with the missing pages served, then tell the source (Ready).</summary>
    private void PreparePostcopy(FrameConnection main, ReadOnlyMemory<byte> deviceState)
    {
        if (deviceStateApplied) throw new ProtocolException("DeviceState arrived twice");
        postcopy!.Prepare(deviceState.Span);
        deviceStateApplied = true;
        var payload = new PayloadWriter();
        new ReadyMessage(false, 0, 0).Write(payload);
        main.Write(MessageType.Ready, payload);
        main.Flush();
        lock (gate) state = DestinationState.AwaitingCommit;
    }

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
            if (postcopy is null || state == DestinationState.PostcopyActive) return;
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
        }
        postcopy!.Resume();
        Machine = machine;
        SetStatus(MigrationStatus.PostcopyActive);
        Event?.Invoke(new MigrationGuestResumed(machine!));
        SendResumed(main, Tern.Machine.HeartbeatMonitor.NowUnixNanoseconds(), System.Diagnostics.Stopwatch.GetTimestamp());
    }

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
            Fail(e);
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
}
