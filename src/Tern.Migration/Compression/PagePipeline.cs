using System.Diagnostics;
using Tern.Memory;

namespace Tern.Migration.Compression;

/// <summary>
/// The lockless multithread model (Tencent, KVM Forum 2018): N workers, each with its own SPSC request and result
/// ring; the owner thread submits round-robin to worker 0, 1, …, N-1, 0, … and collects results round-robin in the
/// same order.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> One owner thread (the migration thread on the source, the receive thread on the
/// destination) calls <see cref="TryQueue"/>, <see cref="WaitForRoom"/>, <see cref="DrainReady"/>, <see cref="Flush"/> and <see cref="Dispose"/>;
/// it is both the producer of every request ring and the consumer of every result ring, so each ring has exactly one
/// producer and one consumer. Results are handed to an <see cref="IPageJobConsumer"/> on the owner thread.</para>
/// <para><b>Order without tags.</b> Page <c>k</c> goes to worker <c>k mod N</c>, each worker finishes its own jobs
/// in order, and the owner takes the next result from worker <c>consumed mod N</c>; so results come out in exactly
/// the submission order, and the page index a result carries is for the consumer, not for reordering. The cost is
/// head-of-line blocking behind a slow page, which for equal-sized pages is small.</para>
/// <para><b>Back-pressure.</b> The owner keeps at most <c>depth</c> jobs out with each worker (queued or finished and
/// not yet consumed). When the next worker has no room the submission is <em>busy</em>: the owner either consumes
/// results (waiting for the oldest one if needed) until it has room, or declines the page. Because a worker's result
/// ring has room for all its outstanding jobs, a worker never blocks, and an owner that waits always makes progress.</para>
/// <para><b>Sleeping.</b> An idle worker spins a few microseconds and then parks on its <see cref="Doorbell"/>; a
/// waiting owner parks at once, asking to be woken for a batch of results (half a queue), not for each one. The
/// waker pays a fence per page and touches the event only when the other side is actually asleep: with one worker
/// and the default depth of 16 the owner sleeps about once per 8 pages while the worker is the bottleneck.</para>
/// </remarks>
internal sealed partial class PagePipeline : IDisposable
{
    private readonly PageWorker[] _workers;
    private readonly int[] _outstanding;
    private readonly PageJobPool _pool;
    private readonly Doorbell _ownerBell = new();
    private readonly IPageJobConsumer _consumer;
    private readonly string _role;
    private readonly int _depth;
    private long _submitted;
    private long _consumed;
    private bool _consuming;
    private bool _disposed;

    /// <param name="role">Names the threads and errors: <c>compress</c> or <c>decompress</c>.</param>
    /// <param name="works">One work function per worker; the pipeline owns and disposes them.</param>
    /// <param name="depth">Jobs each worker may have out at once; a power of two.</param>
    public PagePipeline(string role, IReadOnlyList<IPageJobWork> works, int depth, IPageJobConsumer consumer)
    {
        _role = role;
        _depth = depth;
        _consumer = consumer;
        _outstanding = new int[works.Count];
        _pool = new PageJobPool(works.Count * depth);
        _workers = new PageWorker[works.Count];
        for (var i = 0; i < works.Count; i++) _workers[i] = new PageWorker(i, role, depth, works[i], _ownerBell);
        foreach (var worker in _workers) worker.Start();
    }

    public int WorkerCount => _workers.Length;

    /// <summary>Pages submitted and not yet handed to the consumer.</summary>
    public long InFlight => _submitted - _consumed;

    public long Submitted => _submitted;

    /// <summary>Stops the workers (queued pages are dropped) and joins their threads.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var worker in _workers) worker.Dispose();
        _ownerBell.Dispose();
    }

    private void CheckUsable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_consuming) throw new InvalidOperationException($"{_role} pipeline: the result handler must not call back into the pipeline");
    }

    /// <summary>Every job is either in the pool or in flight, and the per-worker counts add up to the pages in flight.</summary>
    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        long outstanding = 0;
        foreach (var count in _outstanding)
        {
            Debug.Assert(count >= 0 && count <= _depth, "a worker holds more jobs than the queue depth");
            outstanding += count;
        }
        Debug.Assert(outstanding == InFlight, "per-worker job counts do not add up to the pages in flight");
        Debug.Assert(_pool.Available + InFlight == _workers.Length * _depth, "a job was lost or returned twice");
    }

    private int WorkerFor(long sequence) => (int)(sequence % _workers.Length);

    private bool HasRoom(int worker) => _outstanding[worker] < _depth;

    private void Hand(int worker, PageIndex page, ReadOnlySpan<byte> input)
    {
        var job = _pool.Rent();
        job.Reset(page, input);
        _outstanding[worker]++;
        _submitted++;
        _workers[worker].Submit(job);
        AssertInvariants();
    }
}
