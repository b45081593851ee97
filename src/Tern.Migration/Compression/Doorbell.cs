namespace Tern.Migration.Compression;

/// <summary>
/// Lets one thread sleep when it has nothing to do and be woken by another, while costing the waker only a fence and
/// a read when nobody sleeps: the semaphore is touched only when the sleeper has announced that it is parking.
/// </summary>
/// <remarks>
/// Protocol (a Dekker-style handshake; both sides need a full fence between their store and their load):
/// the sleeper calls <see cref="PrepareToPark"/> (store "parked", fence), re-checks for work, then either
/// <see cref="CancelPark"/> or <see cref="Park"/>; the waker publishes its work, then calls <see cref="Ring"/>
/// (fence, load "parked"). Either the sleeper sees the work or the waker sees "parked" and sets the event,
/// so a wake-up is never lost. The event is reset after each wake-up; a set that the reset wipes out belonged to work
/// published before it, which the sleeper's re-check sees. A stale set only causes one harmless spurious wake-up.
/// The event does not spin before it blocks (SemaphoreSlim would): on a 2-core machine a spinning sleeper takes the
/// core from the very thread it waits for, and the pipeline does its own, bounded spinning where it pays.
/// </remarks>
internal sealed class Doorbell : IDisposable
{
    private readonly ManualResetEventSlim _signal = new(initialState: false, spinCount: 0);
    private int _parked;

    /// <summary>Sleeper: announce the intention to park. Re-check for work after this, before <see cref="Park"/>.</summary>
    public void PrepareToPark()
    {
        Volatile.Write(ref _parked, 1);
        Interlocked.MemoryBarrier();
    }

    /// <summary>Sleeper: work turned up after <see cref="PrepareToPark"/>; do not park.</summary>
    public void CancelPark() => Volatile.Write(ref _parked, 0);

    /// <summary>Sleeper: sleep until <see cref="Ring"/> (or a timeout, so a sleeper can re-check other conditions).</summary>
    public void Park(int millisecondsTimeout = Timeout.Infinite)
    {
        _signal.Wait(millisecondsTimeout);
        _signal.Reset();
        Volatile.Write(ref _parked, 0);
    }

    /// <summary>Waker: call after publishing work; wakes the sleeper if it parked or is about to.</summary>
    public void Ring()
    {
        if (SleeperIsParking()) Wake();
    }

    /// <summary>
    /// Waker, for a conditional wake-up: a full fence, then whether the sleeper has announced that it is parking.
    /// Evaluate the sleeper's wake condition after this (it is then ordered after the work just published) and call
    /// <see cref="Wake"/> if it holds.
    /// </summary>
    public bool SleeperIsParking()
    {
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref _parked) != 0;
    }

    /// <summary>Waker: wakes the sleeper; only the first of several concurrent wakers sets the event.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _parked, 0) != 0) _signal.Set();
    }

    public void Dispose() => _signal.Dispose();
}
