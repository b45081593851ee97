using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

public sealed partial class MigrationDestination
{
    private readonly Queue<(long At, long Bytes)> progress = new(); // one sample a second, the last window's worth

    private (MessageType, ReadOnlyMemory<byte>) ReadOrFail(FrameConnection connection)
    {
        cancel.Token.ThrowIfCancellationRequested();
        return connection.Read();
    }

    /// <summary>Records the first failure from any thread and unblocks everything else.</summary>
    private void Fail(Exception e)
    {
        if (Interlocked.CompareExchange(ref failure, e, null) is not null) return;
        cancel.Cancel();
        StopPostcopyBeforeResume();
        barrier.Break(e);
        // Stopping the reads unblocks every reader; the main thread then decides what the failure means and, the
        // main connection still writable, tells the source why (also when a page channel found the fault).
        connections.StopReading();
    }

    /// <summary>
    /// Once a second while a migration is under way: the source must have delivered at least
    /// <see cref="DestinationLimits.MinimumProgressBytes"/> in the last <see cref="DestinationLimits.ProgressWindow"/>
    /// (bytes count as they arrive, partial frames too). Nothing at all means the source is gone or stuck; a little is
    /// a trickle, and is called one.
    /// </summary>
    private void CheckForStall()
    {
        DestinationState now;
        long bytes;
        bool pagesMissing;
        lock (gate)
        {
            now = state;
            bytes = connections.BytesRead;
            pagesMissing = postcopy is { IsComplete: false };
        }
        long at = Stopwatch.GetTimestamp();
        long moved;
        lock (progress)
        {
            bool watched = now is DestinationState.Receiving or DestinationState.AwaitingCommit
                || (now == DestinationState.PostcopyActive && pagesMissing);
            if (!watched)
            {
                progress.Clear();
                return;
            }
            progress.Enqueue((at, bytes));
            long windowTicks = (long)(limits.ProgressWindow.TotalSeconds * Stopwatch.Frequency);
            // Keep as the oldest the newest sample that is at least a window old: the bytes since it span the window.
            while (progress.Count > 1 && at - progress.ElementAt(1).At >= windowTicks) progress.Dequeue();
            var (oldestAt, oldestBytes) = progress.Peek();
            if (at - oldestAt < windowTicks) return;
            moved = bytes - oldestBytes;
        }
        if (now == DestinationState.PostcopyActive || (now == DestinationState.AwaitingCommit && pagesMissing))
        {
            // The guest runs here and waits for pages only the source has: a link that carries nothing at all on any
            // lane (a cable pulled, a veth taken down: no reset ever comes) pauses post-copy, as migrate-pause would,
            // so that it can be recovered. A trickle is not a hang here: max-postcopy-bandwidth may pace the stream.
            // Between Ready and Commit in post-copy, the same: the source may have committed.
            if (moved > 0) return;
            lock (progress) progress.Clear();
            BreakPostcopyLink($"no data from the source on any post-copy connection for {Seconds(limits.ProgressWindow)} (the link hangs)",
                new IOException($"the post-copy link carried nothing for {Seconds(limits.ProgressWindow)}"));
            return;
        }
        if (moved >= limits.MinimumProgressBytes) return;
        string during = $"while {StateText(now)}";
        var e = new IOException(moved == 0
            ? $"no data from the source for {Seconds(limits.ProgressWindow)} {during}"
            : $"the source trickles: {moved} bytes in the last {Seconds(limits.ProgressWindow)} {during}, " +
              $"less than the {limits.MinimumProgressBytes} bytes a migration moves at the least");
        Interlocked.CompareExchange(ref failure, e, null);
        cancel.Cancel();
        barrier.Break(e);
        // The main connection stops reading but can still carry the Error that tells the source why.
        connections.StopReading();
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.#} s" : $"{t.TotalMilliseconds:0} ms";

    private void SetStatus(MigrationStatus next)
    {
        lock (gate)
        {
            if (status == next || status.IsFinished()) return;
            status = next;
        }
        Event?.Invoke(new MigrationStatusChanged(next));
    }

    private void Finish(MigrationStatus final, string? error)
    {
        lock (gate)
        {
            errorText = error;
            totalMs = (long)Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds;
        }
        SetStatus(final);
        if (error is not null) Log(error);
    }

    private void Log(string text) => Event?.Invoke(new MigrationLog(text));

    private static void SendError(FrameConnection connection, ushort code, string text)
    {
        var payload = new PayloadWriter();
        new ErrorMessage(code, FitForWire(text)).Write(payload);
        connection.Write(MessageType.Error, payload);
        connection.Flush();
    }

    private static void SendBestEffortError(FrameConnection connection, string text)
    {
        try
        {
            SendError(connection, ErrorMessage.Failed, text);
        }
        catch
        {
            // The connection may be what failed.
        }
    }

    /// <summary>
    /// An error text cut to the protocol's string limit (at a character boundary), so that a long text is still sent
    /// rather than replaced by a complaint about its length.
    /// </summary>
    private static string FitForWire(string text)
    {
        const string cut = "...";
        if (System.Text.Encoding.UTF8.GetByteCount(text) <= PayloadReader.MaxStringBytes) return text;
        int bytes = 0, chars = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > PayloadReader.MaxStringBytes - cut.Length) break;
            bytes += rune.Utf8SequenceLength;
            chars += rune.Utf16SequenceLength;
        }
        return text[..chars] + cut;
    }

    private static string Describe(Exception e) => e switch
    {
        ProtocolException p => $"bad migration stream: {p.Message}",
        EndOfStreamException eos => $"the source went away: {eos.Message}",
        OperationCanceledException { InnerException: { } inner } => Describe(inner),
        _ => e.Message,
    };

    private static string StateText(DestinationState s) => s switch
    {
        DestinationState.AwaitingHello => "waiting for Hello",
        DestinationState.Receiving => "receiving RAM",
        DestinationState.AwaitingCommit => "waiting for the source to commit the hand-over",
        DestinationState.Completed => "running the guest",
        _ => s.ToString(),
    };

    private static string ByteSize(ulong bytes) => Tern.Memory.ByteSize.Format(bytes);

    private PageApplier CreateApplier(IVirtualMachine m, ProtocolCapability capabilities) =>
        new(m.Memory, new CapabilitySchedule(capabilities, barrier), counters);

    public void Dispose()
    {
        Fail(new OperationCanceledException("the destination was shut down"));
        router?.Dispose();
        Task? run;
        lock (gate) run = running;
        if (run is null) completion.TrySetResult();
        // The receiving thread still uses the token while it winds down: dispose it only once that thread is done.
        if (run is null || run.Wait(TimeSpan.FromSeconds(10))) cancel.Dispose();
    }
}
