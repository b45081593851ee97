using System.Diagnostics;

namespace Tern.Migration.Engine;

/// <summary>
/// A token bucket shared by all channel writers: at most <see cref="BytesPerSecond"/> bytes a second, with bursts of
/// up to a tenth of a second's worth. Zero means unlimited. The rate can change while a migration runs.
/// </summary>
public sealed class BandwidthLimiter
{
    private readonly object gate = new();
    private long bytesPerSecond;
    private double tokens;
    private long lastRefill = Stopwatch.GetTimestamp();

    public BandwidthLimiter(ulong bytesPerSecond) => this.bytesPerSecond = (long)Math.Min(bytesPerSecond, long.MaxValue);

    public ulong BytesPerSecond
    {
        get => (ulong)Interlocked.Read(ref bytesPerSecond);
        set => Interlocked.Exchange(ref bytesPerSecond, (long)Math.Min(value, long.MaxValue));
    }

    /// <summary>Blocks until <paramref name="bytes"/> may be sent (at once when unlimited).</summary>
    public void Take(long bytes, CancellationToken cancel)
    {
        while (true)
        {
            long rate = Interlocked.Read(ref bytesPerSecond);
            if (rate <= 0) return;
            TimeSpan wait;
            lock (gate)
            {
                long now = Stopwatch.GetTimestamp();
                double burst = Math.Max(rate / 10.0, bytes);
                tokens = Math.Min(burst, tokens + rate * Stopwatch.GetElapsedTime(lastRefill, now).TotalSeconds);
                lastRefill = now;
                if (tokens >= bytes)
                {
                    tokens -= bytes;
                    return;
                }
                wait = TimeSpan.FromSeconds((bytes - tokens) / rate);
            }
            cancel.WaitHandle.WaitOne(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait);
            cancel.ThrowIfCancellationRequested();
        }
    }
}
