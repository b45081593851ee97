using Tern.Memory;

namespace Tern.Migration.Compression;

internal sealed partial class PagePipeline
{
    /// <summary>
    /// Owner: hands on the results that are ready, then copies <paramref name="input"/> into a pooled buffer and
    /// queues it on the next worker in round-robin order. Returns false, without taking the page, when that worker has
    /// no room (the submission is busy): the caller then calls <see cref="WaitForRoom"/> and tries again, or gives up.
    /// </summary>
    public bool TryQueue(PageIndex page, ReadOnlySpan<byte> input)
    {
        CheckUsable();
        DrainReadyUnchecked();
        var worker = WorkerFor(_submitted);
        if (!HasRoom(worker)) return false;
        Hand(worker, page, input);
        return true;
    }

    /// <summary>
    /// Owner: hands on results until the next worker has room, sleeping while none is ready. Consuming in order frees
    /// that worker's slots, since its oldest job is among those ahead. When everything is full the oldest job is the
    /// next worker's own, so the owner sleeps until half of that worker's queue is done and then hands on the whole
    /// batch: one wake-up per half queue, not one per page.
    /// </summary>
    public void WaitForRoom()
    {
        CheckUsable();
        var worker = WorkerFor(_submitted);
        while (!HasRoom(worker))
        {
            if (DrainReadyUnchecked() > 0) continue;
            WaitForResults(_workers[WorkerFor(_consumed)], Math.Max(1, _depth / 2));
        }
    }
}
