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
        while (_consumed < _submitted) TakeNextResult(wait: true);
    }

    private int DrainReadyUnchecked()
    {
        var taken = 0;
        while (_consumed < _submitted && TakeNextResult(wait: false)) taken++;
        return taken;
    }

    /// <summary>
    /// Takes the oldest outstanding result (from worker <c>consumed mod N</c>), hands it to the consumer and returns
    /// its buffers to the pool. A job the worker failed on is re-raised here, on the owner's thread.
    /// </summary>
    private bool TakeNextResult(bool wait)
    {
        Debug.Assert(_consumed < _submitted);
        var index = WorkerFor(_consumed);
        var worker = _workers[index];
        if (!worker.Results.TryDequeue(out var job))
        {
            ThrowIfCrashed(worker);
            if (!wait) return false;
            WaitForResult(worker);
            if (!worker.Results.TryDequeue(out job)) throw new InvalidOperationException($"{_role} pipeline: a result vanished");
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
        }
        return true;
    }

    /// <summary>Spins briefly, then parks until a worker rings; re-checks the worker's health on every wake-up.</summary>
    private void WaitForResult(PageWorker worker)
    {
        var spin = new SpinWait();
        while (!worker.Results.HasItems)
        {
            ThrowIfCrashed(worker);
            if (!spin.NextSpinWillYield)
            {
                spin.SpinOnce();
                continue;
            }
            _ownerBell.PrepareToPark();
            if (worker.Results.HasItems || worker.Crash is not null)
            {
                _ownerBell.CancelPark();
                continue;
            }
            _ownerBell.Park();
        }
    }

    private void ThrowIfCrashed(PageWorker worker)
    {
        if (worker.Crash is { } crash) throw new PageWorkerException(_role, worker.Index, null, crash);
    }
}
