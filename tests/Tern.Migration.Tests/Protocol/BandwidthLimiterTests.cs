using System.Diagnostics;
using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Protocol;

/// <summary>
/// The token bucket that paces every channel. Bounds are generous on purpose (the machine is shared): the checks are
/// that the limit holds back at all, lets through at once when unlimited, and follows a change while a sender waits.
/// </summary>
public sealed class BandwidthLimiterTests
{
    private const long Chunk = 64 << 10;

    private static TimeSpan Send(BandwidthLimiter limiter, long bytes, CancellationToken? cancel = null)
    {
        var started = Stopwatch.GetTimestamp();
        for (long sent = 0; sent < bytes; sent += Chunk) limiter.Take(Chunk, cancel ?? TestContext.Current.CancellationToken);
        return Stopwatch.GetElapsedTime(started);
    }

    [Fact]
    public void The_rate_holds_over_a_window()
    {
        var limiter = new BandwidthLimiter(4 << 20);
        // 2 MiB at 4 MiB/s: 0.5 s, less the burst allowance of a tenth of a second.
        var took = Send(limiter, 2 << 20);
        Assert.True(took >= TimeSpan.FromSeconds(0.35), $"2 MiB passed a 4 MiB/s limit in {took.TotalMilliseconds:0} ms");
        Assert.True(took < TimeSpan.FromSeconds(10), $"2 MiB at 4 MiB/s took {took.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void Unlimited_never_waits()
    {
        var limiter = new BandwidthLimiter(0);
        var took = Send(limiter, 64L << 30); // 64 GiB of tokens: only possible without waiting
        Assert.True(took < TimeSpan.FromSeconds(5), $"an unlimited limiter took {took.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void A_lifted_limit_lets_everything_through_and_stays_lifted_when_the_rate_changes()
    {
        // 1 KiB/s: 64 GiB would take two years. Lifted (the switchover), the tokens no longer matter, nor a new rate.
        var limiter = new BandwidthLimiter(1 << 10);
        limiter.Lift();
        limiter.BytesPerSecond = 2 << 10;
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Send(limiter, 64L << 30, giveUp.Token);
        Assert.True(limiter.IsLifted);
    }

    [Fact]
    public void Raising_the_limit_releases_a_waiting_sender()
    {
        var limiter = new BandwidthLimiter(1 << 10); // 1 KiB/s: 4 MiB would take over an hour
        var sender = new Thread(() => Send(limiter, 4 << 20));
        sender.Start();
        Thread.Sleep(200);
        Assert.True(sender.IsAlive);
        limiter.BytesPerSecond = 0;
        Assert.True(sender.Join(TimeSpan.FromSeconds(10)), "the sender still waits after the limit was lifted");
    }

    [Fact]
    public void Lowering_the_limit_mid_stream_slows_the_sender()
    {
        var limiter = new BandwidthLimiter(0);
        Send(limiter, 16 << 20);
        limiter.BytesPerSecond = 2 << 20;
        var took = Send(limiter, 1 << 20); // 1 MiB at 2 MiB/s: 0.5 s, less a 0.1 s burst
        Assert.True(took >= TimeSpan.FromSeconds(0.3), $"1 MiB passed a 2 MiB/s limit in {took.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void A_waiting_sender_is_cancelled_at_once()
    {
        var limiter = new BandwidthLimiter(1 << 10);
        using var cancel = new CancellationTokenSource();
        Exception? thrown = null;
        var sender = new Thread(() =>
        {
            try { Send(limiter, 4 << 20, cancel.Token); }
            catch (Exception e) { thrown = e; }
        });
        sender.Start();
        Thread.Sleep(100);
        cancel.Cancel();
        Assert.True(sender.Join(TimeSpan.FromSeconds(10)), "the cancelled sender still waits");
        Assert.IsAssignableFrom<OperationCanceledException>(thrown);
    }
}
