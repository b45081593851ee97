using Tern.Memory;

namespace Tern.Migration.Compression;

internal sealed partial class PagePipeline
{
    /// <summary>
    /// Owner: copies <paramref name="input"/> into a pooled buffer and queues it on the next worker in round-robin
    /// order, first handing on any results that are ready. When that worker has no room (<paramref name="foundBusy"/>),
    /// either waits, consuming results until it has, or (when <paramref name="waitWhenBusy"/> is false) returns false
    /// without taking the page.
    /// </summary>
    public bool Submit(PageIndex page, ReadOnlySpan<byte> input, bool waitWhenBusy, out bool foundBusy)
    {
        CheckUsable();
        DrainReadyUnchecked();
        var worker = WorkerFor(_submitted);
        foundBusy = !HasRoom(worker);
        if (foundBusy)
        {
            if (!waitWhenBusy) return false;
            // Consuming in order frees this worker's slots: its oldest job is among the ones ahead.
            while (!HasRoom(worker)) TakeNextResult(wait: true);
        }
        Hand(worker, page, input);
        return true;
    }
}
