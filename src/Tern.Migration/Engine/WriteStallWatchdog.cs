using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// Detects a peer that stopped reading: a write that has made no progress for <see cref="Limit"/> (its socket
/// buffers are full and stay full). Writes are blocking and have no deadline of their own, so without this a writer
/// would wait for as long as the peer holds the connection open. On a stall it reports the connection once and
/// closes it, which ends the blocked write.
/// </summary>
internal sealed class WriteStallWatchdog : IDisposable
{
    /// <summary>
    /// No progress for this long is a stall. A frame is written in chunks of at most 288 KiB
    /// (<see cref="FrameConnection.WriteChunk"/>), so this is a floor of about 29 KiB/s
    /// on the link, far below any migration worth running; and well under the 30 s after which a destination gives
    /// up on a silent source, so the source names the cause first.
    /// </summary>
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromSeconds(10);

    private readonly Func<IReadOnlyList<(int Channel, FrameConnection Connection)>> connections;
    private readonly Action<WriteStalledException> onStall;
    private readonly Timer timer;
    private int reported;

    public WriteStallWatchdog(TimeSpan limit, Func<IReadOnlyList<(int Channel, FrameConnection Connection)>> connections,
        Action<WriteStalledException> onStall)
    {
        Limit = limit;
        this.connections = connections;
        this.onStall = onStall;
        var period = TimeSpan.FromMilliseconds(Math.Clamp(limit.TotalMilliseconds / 10, 10, 1000));
        timer = new Timer(_ => Check(), null, period, period);
    }

    public TimeSpan Limit { get; }

    private void Check()
    {
        foreach (var (channel, connection) in connections())
        {
            var stalled = connection.WriteStalledFor;
            if (stalled < Limit) continue;
            // Reported once (the first stall is the cause); every stalled connection is closed, so that no later
            // write (the Error that tells the destination why) can block on it either.
            if (Interlocked.Exchange(ref reported, 1) == 0)
            {
                onStall(new WriteStalledException(
                    $"the destination stopped reading: nothing could be sent to {connection.Peer} on channel {channel} for " +
                    $"{stalled.TotalSeconds:0.#} s (the limit is {Limit.TotalSeconds:0.#} s)"));
            }
            connection.Dispose(); // ends the blocked write
        }
    }

    public void Dispose() => timer.Dispose();
}

/// <summary>A write to the destination made no progress for the watchdog's limit: the peer stopped reading.</summary>
public sealed class WriteStalledException(string message) : IOException(message);
