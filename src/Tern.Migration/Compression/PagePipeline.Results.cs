using System.Diagnostics;

namespace Tern.Migration.Compression;

internal sealed partial class PagePipeline
{
    /// <summary>Owner: hands on every result that is ready now, in order, without waiting. Returns how many.</summary>
    public int DrainReady()
    {
        CheckUsable();
        return DrainReadyUnchecked();
    }

    /// <summary>Owner: waits until every submitted page has been handed to the consumer (a pass boundary).</summary>
    public void Flush()
    {
        CheckUsable();
        while (_consumed < _submitted)
        {
            if (DrainReadyUnchecked() > 0) continue;
            // Wake only when the oldest page's worker has run out of queued work: about one wake-up per worker.
            WaitForResults(_workers[WorkerFor(_consumed)], int.MaxValue);
        }
    }

    private int DrainReadyUnchecked()
    {
        var taken = 0;
        while (_consumed < _submitted && TryTakeNextResult()) taken++;
        return taken;
    }

    /// <summary>
    /// Takes the oldest outstanding result (from worker <c>consumed mod N</c>) if it is ready, hands it to the consumer
    /// and returns its buffers to the pool. A job the worker failed on is re-raised here, on the owner's thread.
    /// </summary>
    private bool TryTakeNextResult()
    {
        Debug.Assert(_consumed < _submitted);
        var index = WorkerFor(_consumed);
        var worker = _workers[index];
        if (!worker.Results.TryDequeue(out var job))
        {
            ThrowIfCrashed(worker);
            return false;
        }
        _outstanding[index]--;
        _consumed++;
        try
        {
            if (job.Fault is { } fault) throw new PageWorkerException(_role, index, job.Page, fault);
            _consuming = true;
            _consumer.Consume(job);
        }
        finally
        {
            _consuming = false;
            _pool.Return(job);
            AssertInvariants();
        }
        return true;
    }

    /// <summary>
    /// Waits until <paramref name="worker"/> has <paramref name="wanted"/> results ready, or at least one and no queued
    /// requests left (so the wait always ends: the worker finishes what it has). Parks at once (a batch of pages
    /// takes far longer than a wake-up); the worker wakes the owner when that condition turns true, and the owner
    /// re-checks the worker's health on every wake-up.
    /// </summary>
    private void WaitForResults(PageWorker worker, int wanted)
    {
        worker.WakeOwnerAt(wanted);
        try
        {
            while (!HasEnoughResults(worker, wanted))
            {
                ThrowIfCrashed(worker);
                _ownerBell.PrepareToPark();
                if (HasEnoughResults(worker, wanted) || worker.Crash is not null)
                {
                    _ownerBell.CancelPark();
                    continue;
                }
                _ownerBell.Park();
            }
        }
        finally
        {
            worker.WakeOwnerAt(0);
        }
    }

    private static bool HasEnoughResults(PageWorker worker, int wanted)
    {
        var ready = worker.Results.Count;
        return ready >= wanted || (ready > 0 && worker.Requests.Count == 0);
    }

    private void ThrowIfCrashed(PageWorker worker)
    {
        if (worker.Crash is { } crash) throw new PageWorkerException(_role, worker.Index, null, crash);
    }
}
