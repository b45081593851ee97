using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

public sealed partial class MigrationDestination
{
    private long stallBytes = -1;
    private long stallSince = Stopwatch.GetTimestamp();

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
        barrier.Break(e);
        // Closing the connections unblocks every reader; the main thread then decides what the failure means.
        connections.Close();
    }

    /// <summary>No bytes for <see cref="StallTimeout"/> while a migration is under way: the source is gone or stuck.</summary>
    private void CheckForStall()
    {
        DestinationState now;
        long bytes;
        lock (gate)
        {
            now = state;
            bytes = connections.BytesRead;
        }
        if (now is not (DestinationState.Receiving or DestinationState.AwaitingCommit))
        {
            stallSince = Stopwatch.GetTimestamp();
            return;
        }
        if (bytes != stallBytes)
        {
            stallBytes = bytes;
            stallSince = Stopwatch.GetTimestamp();
            return;
        }
        if (Stopwatch.GetElapsedTime(stallSince) > StallTimeout)
        {
            var e = new IOException($"no data from the source for {StallTimeout.TotalSeconds:0} s while {StateText(now)}");
            Interlocked.CompareExchange(ref failure, e, null);
            cancel.Cancel();
            barrier.Break(e);
            connections.Close();
        }
    }

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
        new ErrorMessage(code, text).Write(payload);
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
