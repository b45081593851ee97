using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Source;

internal sealed partial class SourceSession
{
    /// <summary>Orders a cancel against the commit: a cancel either comes before Commit is written or is refused.</summary>
    private readonly object commitGate = new();
    private bool commitWritten;

    /// <summary>Complete is about to be written: from now on a Ready that echoes the returned token is the answer to it.</summary>
    internal ulong CompleteSent()
    {
        lock (commitGate) return handOver.CompleteSent();
    }

    /// <summary>The guest is stopped: what is left goes at link speed, not at max-bandwidth (see <see cref="BandwidthLimiter.Lift"/>).</summary>
    internal void LiftBandwidthLimit() => limiter.Lift();

    /// <summary>The passes the destination said it has applied (PassApplied).</summary>
    internal AppliedPasses AppliedPasses { get; } = new();

    /// <summary>
    /// Before the pause, with <c>pass-applied</c>: waits (the guest running) until the destination has applied
    /// <paramref name="pass"/>, at most the downtime limit: a longer backlog would not fit in the stop anyway, and the
    /// guest dirties pages for the final pass all the while. Logs a wait that took time. Only after a pass on one
    /// channel: the destination says a pass applied when channel 0 ends it, which for a pass on several channels
    /// is only so if the others ended it first.
    /// </summary>
    internal void AwaitDestinationCaughtUp(uint pass)
    {
        if ((negotiated & ProtocolCapability.PassApplied) == 0 || pass == 0 || LastPassChannels != 1) return;
        var started = Stopwatch.GetTimestamp();
        var patience = TimeSpan.FromMilliseconds(Math.Max(1, settings.Parameters.DowntimeLimitMs));
        bool caughtUp = AppliedPasses.WaitFor(pass, patience, cancel.Token);
        var waited = Stopwatch.GetElapsedTime(started);
        if (!caughtUp)
            Log($"the destination had not applied pass {pass} after {waited.TotalMilliseconds:0} ms (last applied: {AppliedPasses.Last}); pausing the guest anyway");
        else if (waited > TimeSpan.FromMilliseconds(1))
            Log($"waited {waited.TotalMilliseconds:0.0} ms, the guest running, for the destination to apply pass {pass} before pausing it");
    }

    internal Task<ReadyMessage> ReadyTask => ready.Task;
    internal Task<ResumedMessage> ResumedTask => resumed.Task;

    /// <summary>
    /// Step two of the hand-over. Before the first byte of Commit is written the VM is still the source's: a cancel or
    /// a failure up to that point throws an ordinary error, and the guest resumes here. From then on the destination
    /// may be running it, so a failure is <see cref="HandOverUncertainException"/> and a cancel is refused.
    /// Commit is written here on the migration thread, not queued to the channel writer, so that "written or not" is
    /// known exactly.
    /// </summary>
    internal void Commit()
    {
        // Every earlier frame was handed to the kernel (WaitUntilSent before Ready) and the writer stopped taking
        // frames then: nothing else can interleave with Commit on the main connection. Only if that is not so, wait
        // for its thread (waking it costs a scheduling round inside the stop on a busy host).
        if (!channels[0].Finished && !channels[0].Stop(TimeSpan.FromSeconds(2)))
            throw new IOException("the main connection's writer is stuck; not committing the hand-over");
        lock (commitGate)
        {
            // A failure elsewhere (the return path, a writer, the switchover deadline) cancels the token too, under
            // this lock when it must stop the commit; the caller reports which.
            cancel.Token.ThrowIfCancellationRequested();
            handOver.CommitWritten();
            Volatile.Write(ref commitWritten, true);
        }
        try
        {
            main!.Write(MessageType.Commit, ReadOnlySpan<byte>.Empty);
            main.Flush();
        }
        catch (Exception e)
        {
            throw new HandOverUncertainException(
                $"the link failed while committing the hand-over ({Describe(e)}): both sides are paused; " +
                "run `cont` on the side that should keep the VM", e);
        }
    }

    /// <summary>
    /// Lets the return path judge whatever the destination has already sent before Complete goes out: such a message
    /// (a Ready, a Resumed) was sent before the destination could have seen Complete, and must be judged as that, not
    /// taken for the answer to it because the reader ran late. An Error is read and fails the migration as usual.
    /// </summary>
    internal void AwaitReturnPathJudged()
    {
        var spin = new SpinWait();
        while (main!.HasUnreadBytes || Interlocked.Read(ref returnPathBytesJudged) != main.BytesRead)
        {
            cancel.Token.ThrowIfCancellationRequested();
            spin.SpinOnce();
        }
    }

    /// <summary>What the switchover is doing, for the error when the deadline passes.</summary>
    internal string SwitchoverStep { get => Volatile.Read(ref switchoverStep); set => Volatile.Write(ref switchoverStep, value); }
    private string switchoverStep = "pausing the guest";

    /// <summary>Arms the timer that takes the VM back if Commit is not written within the limit plus its margin.</summary>
    internal Timer StartSwitchoverDeadline(long pausedAt)
    {
        long limitMs = settings.Parameters.DowntimeLimitMs;
        TimeSpan? predicted;
        lock (gate) predicted = expectedDowntimeMs >= 0 ? TimeSpan.FromMilliseconds(expectedDowntimeMs) : null;
        bool verify = settings.IsEnabled(MigrationCapability.Verify);
        var margin = SwitchoverDeadline.Margin(limitMs, predicted, verify, machine.Memory.Size);
        var due = TimeSpan.FromMilliseconds(limitMs) + margin - Stopwatch.GetElapsedTime(pausedAt);
        return new Timer(_ => AbandonSwitchover(pausedAt, limitMs, margin), null,
            due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The deadline passed with the guest still paused: unless Commit is already written, the switchover is abandoned
    /// (under the commit lock, so the two cannot cross) and the migration fails; the guest then resumes here.
    /// </summary>
    private void AbandonSwitchover(long pausedAt, long limitMs, TimeSpan margin)
    {
        lock (commitGate)
        {
            // Committed: the VM may be the destination's now. Already stopping (a cancel, another failure): that cause
            // is the one to report.
            if (commitWritten || cancel.IsCancellationRequested) return;
            Fail(new TimeoutException(
                $"the destination did not confirm within the downtime limit ({limitMs} ms + {margin.TotalMilliseconds:0} ms margin): " +
                $"after {Stopwatch.GetElapsedTime(pausedAt).TotalMilliseconds:0} ms the source was still {switchoverStep}"));
        }
    }

    internal T Await<T>(Task<T> task, string what)
    {
        try
        {
            if (!task.Wait(ReplyTimeout, cancel.Token))
                throw new TimeoutException($"no reply within {ReplyTimeout.TotalSeconds:0} s while waiting for {what}");
            return task.Result;
        }
        catch (AggregateException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}
