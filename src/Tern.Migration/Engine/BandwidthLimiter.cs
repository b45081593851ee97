using System.Diagnostics;

namespace Tern.Migration.Engine;

/// <summary>
/// A token bucket shared by all channel writers: at most <see cref="BytesPerSecond"/> bytes a second, with bursts of
/// up to a tenth of a second's worth. Zero means unlimited. The rate can change while a migration runs, until the
/// switchover lifts the limit for good (<see cref="Lift"/>).
/// </summary>
public sealed class BandwidthLimiter
{
    private readonly object gate = new();
    private long bytesPerSecond;
    private volatile bool lifted;
    private double tokens;
    private long lastRefill = Stopwatch.GetTimestamp();

    /// <summary>The longest a waiting sender sleeps before it looks at the rate again.</summary>
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(50);

    public BandwidthLimiter(ulong bytesPerSecond) => this.bytesPerSecond = (long)Math.Min(bytesPerSecond, long.MaxValue);

    public ulong BytesPerSecond
    {
        get => (ulong)Interlocked.Read(ref bytesPerSecond);
        set => Interlocked.Exchange(ref bytesPerSecond, (long)Math.Min(value, long.MaxValue));
    }

    /// <summary>
    /// From now on every <see cref="Take"/> returns at once, whatever the rate says (a later rate change included):
    /// the guest is stopped for the switchover, and every byte held back lengthens the stop. QEMU likewise sends its
    /// final pass "regardless of rate limiting". The limit paces the live passes, which can take as long as they need.
    /// </summary>
    public void Lift() => lifted = true;

    /// <summary>Whether <see cref="Lift"/> was called.</summary>
    public bool IsLifted => lifted;

    /// <summary>Blocks until <paramref name="bytes"/> may be sent (at once when unlimited or lifted).</summary>
    public void Take(long bytes, CancellationToken cancel)
    {
        while (true)
        {
            long rate = Interlocked.Read(ref bytesPerSecond);
            if (rate <= 0 || lifted) return;
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
            // Sleep in short slices: the operator may raise (or lift) the limit while a sender waits for a minute's worth.
            cancel.WaitHandle.WaitOne(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait > MaxSleep ? MaxSleep : wait);
            cancel.ThrowIfCancellationRequested();
        }
    }
}
