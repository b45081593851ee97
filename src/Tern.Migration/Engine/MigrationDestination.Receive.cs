using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Pages;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine;

public sealed partial class MigrationDestination
{
    private bool deviceStateArrived;
    /// <summary>Pre-copy's DeviceState when it arrived before every channel ended the final pass: restored at Complete.</summary>
    private byte[]? deviceState;
    private bool finalPassBegun;
    private uint finalPass;
    private int channelsAllowed = 1;

    private void Welcome(FrameConnection main, ReadOnlyMemory<byte> payload)
    {
        var h = HelloMessage.Read(payload.Span);
        if (h.MaxVersion < ProtocolConstants.MinVersion || h.MinVersion > ProtocolConstants.MaxVersion)
        {
            var text = $"the source speaks protocol versions {h.MinVersion}-{h.MaxVersion}, this destination {ProtocolConstants.MinVersion}-{ProtocolConstants.MaxVersion}";
            SendError(main, ErrorMessage.Incompatible, text);
            throw new ProtocolException(text);
        }
        ushort version = Math.Min(h.MaxVersion, ProtocolConstants.MaxVersion);
        if (h.Machine.MemoryBytes == 0 || h.Machine.MemoryBytes % Tern.Memory.PageSize.Bytes != 0)
            throw new ProtocolException($"Hello describes {h.Machine.MemoryBytes} bytes of RAM, not a whole number of pages");
        if (h.Machine.MemoryBytes > memoryLimit.Bytes)
        {
            var text = $"the source asks for {ByteSize(h.Machine.MemoryBytes)} of guest RAM, more than {memoryLimit.Description}";
            SendError(main, ErrorMessage.Incompatible, text);
            throw new RemoteMigrationException(text);
        }
        if (h.Machine.VcpuCount > vcpuLimit.Count)
        {
            var text = $"the source asks for {h.Machine.VcpuCount} vCPUs, more than {vcpuLimit.Description}";
            SendError(main, ErrorMessage.Incompatible, text);
            throw new RemoteMigrationException(text);
        }
        try
        {
            machine = createMachine(h.Machine);
        }
        catch (Exception e)
        {
            var text = $"this destination cannot host the VM: {e.Message}";
            SendError(main, ErrorMessage.Incompatible, text);
            throw new RemoteMigrationException(text);
        }
        if (machine.Memory.Size != h.Machine.MemoryBytes || machine.Description.VcpuCount != h.Machine.VcpuCount)
        {
            var text = $"the destination VM has {machine.Memory.Size} bytes and {machine.Description.VcpuCount} vCPUs, the source {h.Machine.MemoryBytes} and {h.Machine.VcpuCount}";
            SendError(main, ErrorMessage.Incompatible, text);
            throw new RemoteMigrationException(text);
        }
        lock (gate)
        {
            hello = h;
            negotiated = h.Offered & ProtocolCapabilities.Supported;
            applier = CreateApplier(machine, negotiated);
            state = DestinationState.Receiving;
            channelsAllowed = Math.Clamp(h.Channels, 1, ProtocolConstants.MaxChannels);
        }
        HandOverWarmUp.StartForDestination(machine.GetType());
        int channels = channelsAllowed;
        var payloadWriter = new PayloadWriter();
        new WelcomeMessage(version, negotiated, channels).Write(payloadWriter);
        main.Write(MessageType.Welcome, payloadWriter);
        main.Flush();
        Log($"incoming migration: {ByteSize(h.Machine.MemoryBytes)}, {h.Machine.VcpuCount} vCPUs, workload {PeerText.Quote(h.Machine.Workload)}, capabilities {ProtocolCapabilities.Describe(negotiated)}");
    }

    /// <summary>
    /// A pass may use channels that have not connected yet (the source opens them just before the pass): wait a
    /// little for them. Returns how many are open.
    /// </summary>
    private int WaitForChannels(int wanted) => connections.WaitForChannels(wanted, ChannelConnectTimeout, cancel.Token);

    /// <summary>How long a pass waits for the page channels it names to connect.</summary>
    private static readonly TimeSpan ChannelConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The main connection's state machine.</summary>
    private void ReceiveMain(FrameConnection main)
    {
        using var pages = new ChannelPassTracker(0, barrier);
        while (true)
        {
            var (type, payload) = ReadOrFail(main);
            DestinationState now;
            lock (gate) now = state;
            switch (type, now)
            {
                case (MessageType.PassBegin, DestinationState.Receiving):
                    var begin = PassBeginMessage.Read(payload.Span);
                    if (finalPassBegun) throw new ProtocolException($"PassBegin for pass {begin.Pass} after the final pass {finalPass}");
                    if (postcopy is not null) throw new ProtocolException($"PassBegin for pass {begin.Pass} after PostcopyBegin");
                    barrier.Begin(begin.Pass, begin.Channels, WaitForChannels(begin.Channels));
                    lastPassBegun = begin.Pass;
                    if (begin.Final) { finalPassBegun = true; finalPass = begin.Pass; }
                    LogCapabilityChanges(begin.Pass);
                    break;
                case (MessageType.Pages, DestinationState.Receiving):
                    pages.Apply(applier!, payload.Span, cancel.Token);
                    break;
                case (MessageType.PassEnd, DestinationState.Receiving):
                    var ended = PassEndMessage.Read(payload.Span);
                    pages.End(ended, cancel.Token);
                    SayPassApplied(main, ended.Pass);
                    break;
                case (MessageType.SetCapability, DestinationState.Receiving):
                    var change = SetCapabilityMessage.Read(payload.Span);
                    if ((negotiated & change.Capability) == 0)
                        throw new ProtocolException($"SetCapability switches {change.Capability}, which was not negotiated");
                    applier!.Capabilities.Record(change.Capability, change.Enabled); // logged at the PassBegin it applies to
                    break;
                case (MessageType.PostcopyDiscard, DestinationState.Receiving):
                    DiscardAhead(main, payload);
                    break;
                case (MessageType.PostcopyBegin, DestinationState.Receiving):
                    BeginPostcopy(payload);
                    break;
                case (MessageType.DeviceState, DestinationState.Receiving) when postcopy is not null:
                    PreparePostcopy(payload);
                    break;
                case (MessageType.Complete, DestinationState.Receiving) when postcopy is not null:
                    ConfirmPostcopy(main, CompleteMessage.Read(payload.Span));
                    break;
                case (MessageType.Commit, DestinationState.AwaitingCommit) when postcopy is not null:
                    if (payload.Length != 0) throw new HandOverUncertainException($"Commit carries {payload.Length} unexpected bytes");
                    ResumePostcopy(main);
                    break;
                case (MessageType.PostcopyPages, DestinationState.PostcopyActive):
                    postcopy!.Apply(payload.Span);
                    if (postcopy.IsComplete)
                    {
                        FinishPostcopy(main);
                        return;
                    }
                    break;
                case (MessageType.PostcopyStreamEnd, DestinationState.PostcopyActive):
                    if (payload.Length != 0) throw new ProtocolException($"PostcopyStreamEnd carries {payload.Length} bytes (it is empty)");
                    if (!postcopy!.WaitForAll(LastPagesPatience, cancel.Token))
                        throw new IOException($"the source sent every page, but {postcopy.MissingPages} had not arrived {LastPagesPatience.TotalSeconds:0} s later");
                    FinishPostcopy(main);
                    return;
                case (MessageType.DeviceState, DestinationState.Receiving):
                    if (!finalPassBegun) throw new ProtocolException("DeviceState arrived before the final pass began (the source must pause the guest first)");
                    if (deviceStateArrived) throw new ProtocolException("DeviceState arrived twice");
                    // Restored once every channel has ended the final pass: at once when they have (always so on one
                    // channel, whose PassEnd came first; restoring a KVM guest takes milliseconds, better spent while
                    // Complete is on its way), otherwise at Complete: with page channels, pages of the final pass (the
                    // vCPUs' own among them) may still be on their way when the state arrives.
                    if (barrier.Completed >= finalPass) machine!.RestoreState(payload.Span);
                    else deviceState = payload.ToArray();
                    deviceStateArrived = true;
                    break;
                case (MessageType.Complete, DestinationState.Receiving):
                    if (!deviceStateArrived) throw new ProtocolException("Complete arrived before DeviceState");
                    if (barrier.UnendedBefore(finalPass + 1, 0) is not null)
                        throw new ProtocolException($"Complete arrived on channel 0 before channel 0 ended the final pass {finalPass} (PassEnd comes first)");
                    Prepare(main, CompleteMessage.Read(payload.Span));
                    break;
                case (MessageType.Commit, DestinationState.AwaitingCommit):
                    // Still a Commit: the source may count it as given (its commit point is Commit's first byte).
                    if (payload.Length != 0) throw new HandOverUncertainException($"Commit carries {payload.Length} unexpected bytes");
                    Resume(main);
                    return;
                case (MessageType.Error, _):
                    var error = ErrorMessage.Read(type, payload.Span);
                    throw new RemoteMigrationException(error.Code == ErrorMessage.Cancelled ? "the source cancelled the migration" : $"the source reported: {error.Text}");
                default:
                    throw ProtocolException.Unexpected(type, StateText(now));
            }
        }
    }

    /// <summary>
    /// With <c>pass-applied</c>: when channel 0 ends a pass that is not final and the pass has ended on every channel
    /// already (always so for a pass on one channel), every page of it is in RAM: tells the source, which waits for
    /// it before pausing the guest. Never waits here for other channels: the main thread must go on reading (a page
    /// channel may be waiting for the next PassBegin on it), and only the main thread writes to the main connection.
    /// </summary>
    private void SayPassApplied(FrameConnection main, uint pass)
    {
        if ((negotiated & ProtocolCapability.PassApplied) == 0 || (finalPassBegun && pass == finalPass) || postcopy is not null) return;
        if (barrier.Completed < pass) return;
        var payload = new PayloadWriter();
        PassAppliedMessage.Write(payload, pass);
        main.Write(MessageType.PassApplied, payload);
        main.Flush();
    }

    /// <summary>An extra connection: only pages and pass ends belong here.</summary>
    private void ReceiveChannel(FrameConnection connection, int index)
    {
        using var pages = new ChannelPassTracker(index, barrier);
        try
        {
            while (true)
            {
                var (type, payload) = ReadOrFail(connection);
                DestinationState now;
                lock (gate) now = state;
                switch (type)
                {
                    case MessageType.Pages when now == DestinationState.Receiving:
                        pages.Apply(applier!, payload.Span, cancel.Token);
                        break;
                    case MessageType.PassEnd when now == DestinationState.Receiving:
                        pages.End(PassEndMessage.Read(payload.Span), cancel.Token);
                        break;
                    default:
                        throw ProtocolException.Unexpected(type, $"{StateText(now)} on page channel {index}");
                }
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

    /// <summary>Everything has arrived: check it, then tell the source (step one of the hand-over).</summary>
    private void Prepare(FrameConnection main, CompleteMessage complete)
    {
        WaitForFinalPass();
        if (deviceState is { } pending) machine!.RestoreState(pending);
        long received = counters.Records;
        if ((ulong)received != complete.TotalRecords)
            throw new ProtocolException($"the source sent {complete.TotalRecords} page records, {received} arrived");
        ulong digest = 0;
        long pages = 0;
        if (complete.HasDigest)
        {
            if ((negotiated & ProtocolCapability.Verify) == 0) throw new ProtocolException("Complete carries a digest, but verification was not negotiated");
            (digest, pages) = RamDigests.Compute(machine!.Memory);
            if (digest != complete.Digest)
            {
                var text = $"verification failed: guest RAM digest 0x{complete.Digest:x16} on the source, 0x{digest:x16} here";
                SendError(main, ErrorMessage.VerificationFailed, text);
                throw new RemoteMigrationException(text);
            }
            Log($"verified {pages} pages: XXH3 0x{digest:x16} matches the source");
        }
        var payload = new PayloadWriter();
        new ReadyMessage(complete.HasDigest, digest, (ulong)pages, complete.Token).Write(payload);
        main.Write(MessageType.Ready, payload);
        main.Flush();
        lock (gate) state = DestinationState.AwaitingCommit;
    }

    /// <summary>
    /// Complete came on the main connection, which has ended the final pass; the other channels' PassEnds may still be
    /// on their way. Wait for them as long as those channels keep delivering bytes, and no longer than
    /// <see cref="DestinationLimits.FinalPassGrace"/> after the last byte from them: a channel that has gone silent
    /// without its PassEnd will not send it.
    /// </summary>
    private void WaitForFinalPass()
    {
        long lastBytes = -1;
        long lastMoved = Stopwatch.GetTimestamp();
        while (!barrier.WaitCompleted(finalPass, TimeSpan.FromMilliseconds(250), cancel.Token))
        {
            var owing = barrier.ChannelsOwing(finalPass);
            long bytes;
            bytes = connections.BytesReadBy(owing);
            if (bytes != lastBytes)
            {
                lastBytes = bytes;
                lastMoved = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastMoved) > limits.FinalPassGrace && owing.Count > 0)
            {
                throw new ProtocolException($"Complete arrived, but page channel{(owing.Count > 1 ? "s" : "")} {string.Join(", ", owing)} " +
                    $"did not end the final pass {finalPass}: no PassEnd and no data from {(owing.Count > 1 ? "them" : "it")} for {limits.FinalPassGrace.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>One line when the source switched capabilities for a pass (and not back), however many switches it sent.</summary>
    private void LogCapabilityChanges(uint pass)
    {
        var (on, off) = applier!.Capabilities.TakeNewlyReported(pass);
        if (on == ProtocolCapability.None && off == ProtocolCapability.None) return;
        var parts = new List<string>(2);
        if (on != ProtocolCapability.None) parts.Add($"{ProtocolCapabilities.Describe(on)} on");
        if (off != ProtocolCapability.None) parts.Add($"{ProtocolCapabilities.Describe(off)} off");
        Log($"the source switched {string.Join(", ", parts)} from pass {pass}");
    }

    /// <summary>The source gave the VM up (step two): run it here and say so.</summary>
    private void Resume(FrameConnection main)
    {
        long resumedAt = HeartbeatMonitor.NowUnixNanoseconds();
        machine!.Resume();
        long running = Stopwatch.GetTimestamp();
        lock (gate) state = DestinationState.Completed;
        Machine = machine;
        Event?.Invoke(new MigrationGuestResumed(machine));
        SendResumed(main, resumedAt, running);
        Finish(MigrationStatus.Completed, null);
    }

    /// <summary>
    /// Resumed, once the guest's first heartbeat here is seen (or after a second), so the source can report the
    /// downtime the guest saw; with the time held back since the guest ran (<paramref name="running"/>, a Stopwatch
    /// timestamp), which the source leaves out of the downtime.
    /// </summary>
    private void SendResumed(FrameConnection main, long resumedAt, long running)
    {
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        long firstBeat;
        while ((firstBeat = machine!.Heartbeats.FirstBeatAfterMarkUnixNs) == 0 && Stopwatch.GetTimestamp() < deadline) Thread.Sleep(1);
        try
        {
            var payload = new PayloadWriter();
            long heldNs = (long)(Stopwatch.GetElapsedTime(running).TotalMilliseconds * 1_000_000);
            new ResumedMessage(resumedAt, firstBeat, heldNs).Write(payload);
            main.Write(MessageType.Resumed, payload);
            main.Flush();
        }
        catch (Exception e)
        {
            // The VM runs here now, which is what the source committed to; it just will not hear about it.
            Log($"the VM runs here, but the confirmation to the source failed: {e.Message}");
        }
    }
}
