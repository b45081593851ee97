using System.Diagnostics.CodeAnalysis;

namespace Tern.Migration.Compression;

/// <summary>
/// One pipeline worker thread with its own request ring (owner → worker) and result ring (worker → owner). The
/// worker spins briefly when its requests run dry, then parks on its doorbell, so an idle pipeline burns no core.
/// </summary>
internal sealed class PageWorker : IDisposable
{
    /// <summary>Idle checks before parking, and the pause instructions between two checks.</summary>
    private const int IdleSpinChecks = 16;
    private const int IdleSpinIterations = 20;

    private readonly IPageJobWork _work;
    private readonly Doorbell _ownerBell;
    private readonly Doorbell _bell = new();
    private readonly Thread _thread;
    private volatile bool _stopping;
    private volatile Exception? _crash;
    /// <summary>Results at which to wake the waiting owner; 0 while the owner is not waiting on this worker.</summary>
    private int _ownerWakeAt;
    private bool _started;

    /// <param name="depth">Capacity of both rings: the owner keeps at most this many jobs out with this worker.</param>
    public PageWorker(int index, string role, int depth, IPageJobWork work, Doorbell ownerBell)
    {
        Index = index;
        _work = work;
        _ownerBell = ownerBell;
        Requests = new SpscRing<PageJob>(depth);
        Results = new SpscRing<PageJob>(depth);
        _thread = new Thread(Run) { IsBackground = true, Name = $"tern-{role}-{index}" };
    }

    public int Index { get; }

    /// <summary>Jobs for this worker: the owner produces, the worker consumes.</summary>
    public SpscRing<PageJob> Requests { get; }

    /// <summary>Finished jobs, in the order they were submitted: the worker produces, the owner consumes.</summary>
    public SpscRing<PageJob> Results { get; }

    /// <summary>Set if the worker loop itself failed (not a job: those carry their own fault); the owner re-raises it.</summary>
    public Exception? Crash => _crash;

    public void Start()
    {
        _thread.Start();
        _started = true;
    }

    /// <summary>
    /// Owner, before it parks waiting on this worker: wake it once this many results are ready, or when this worker has
    /// no queued requests left (whichever comes first). Waiting for a batch rather than for every result is what keeps
    /// a saturated pipeline from paying a sleep and a wake-up per page. 0 (after the wait) means the owner is not
    /// waiting on this worker, so only the worker the owner actually waits for wakes it.
    /// </summary>
    public void WakeOwnerAt(int readyResults) => Volatile.Write(ref _ownerWakeAt, readyResults);

    /// <summary>Owner: hand a job to this worker. The owner has checked that the worker has room.</summary>
    public void Submit(PageJob job)
    {
        if (!Requests.TryEnqueue(job)) ThrowOverfull();
        _bell.Ring();
    }

    /// <summary>Stops after the job in hand (queued jobs are dropped) and waits for the thread to end.</summary>
    public void Dispose()
    {
        _stopping = true;
        _bell.Ring();
        if (_started) _thread.Join();
        else _work.Dispose();
        _bell.Dispose();
    }

    private void Run()
    {
        try
        {
            while (true)
            {
                if (Requests.TryDequeue(out var job))
                {
                    if (_stopping) break;
                    Process(job);
                    // Cannot fail: the owner keeps at most `depth` jobs out with this worker, queued or finished.
                    if (!Results.TryEnqueue(job)) ThrowOverfull();
                    if (_ownerBell.SleeperIsParking() && OwnerWantsWaking()) _ownerBell.Wake();
                    continue;
                }
                if (_stopping) break;
                if (SpinForWork()) continue;
                _bell.PrepareToPark();
                if (_stopping || Requests.HasItems)
                {
                    _bell.CancelPark();
                    continue;
                }
                _bell.Park();
            }
        }
        catch (Exception e)
        {
            _crash = e;
            _ownerBell.Ring();
        }
        finally
        {
            _work.Dispose();
        }
    }

    private void Process(PageJob job)
    {
        try
        {
            _work.Process(job);
        }
        catch (Exception e)
        {
            job.Fault = e;
        }
    }

    /// <summary>The owner's wake condition, seen from the worker (see <see cref="WakeOwnerAt"/>).</summary>
    private bool OwnerWantsWaking()
    {
        var wakeAt = Volatile.Read(ref _ownerWakeAt);
        return wakeAt > 0 && (Results.Count >= wakeAt || !Requests.HasItems);
    }

    /// <summary>
    /// A short, bounded spin (a few microseconds) before parking, so a worker the owner keeps feeding does not pay for
    /// a park and a wake-up between pages; it never yields, so it cannot hand its core to another process.
    /// </summary>
    private bool SpinForWork()
    {
        for (var i = 0; i < IdleSpinChecks; i++)
        {
            Thread.SpinWait(IdleSpinIterations);
            if (Requests.HasItems || _stopping) return true;
        }
        return false;
    }

    [DoesNotReturn]
    private void ThrowOverfull() =>
        throw new InvalidOperationException($"page pipeline worker {Index}: a ring is full although the owner keeps within the queue depth");
}
