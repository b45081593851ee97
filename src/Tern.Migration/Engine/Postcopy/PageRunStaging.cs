using Tern.Memory;
using Tern.Memory.Postcopy;

namespace Tern.Migration.Engine.Postcopy;

/// <summary>
/// Gathers the consecutive pages of a PostcopyPages payload back to back (a record's header sits between two pages'
/// data on the wire), so that <see cref="MissingPageService.PlaceRun"/> places each run with one system call instead
/// of one per page. The buffers are allocated up front, never while pages are missing: a thread that allocates then
/// can start a GC that waits forever for a thread blocked on a missing page (docs: KVM-NOTES, the GC hazard). Each
/// payload takes a free buffer; when every buffer is taken (more lanes than buffers, for a moment after a
/// recovery) its pages are placed one by one.
/// </summary>
internal sealed class PageRunStaging
{
    /// <summary>Two lanes (main and urgent) and the threads of a link being replaced after a recovery.</summary>
    private const int Buffers = 4;

    private readonly Run[] runs;

    public PageRunStaging()
    {
        runs = new Run[Buffers];
        for (int i = 0; i < Buffers; i++) runs[i] = new Run();
    }

    /// <summary>A free run buffer, or null when all are taken; hand it back with <see cref="Run.Return"/>.</summary>
    public Run? Take()
    {
        foreach (var run in runs)
            if (run.TryTake()) return run;
        return null;
    }

    /// <summary>One run being gathered: pages first, first+1, ... of one payload.</summary>
    internal sealed class Run
    {
        private readonly byte[] buffer = new byte[PostcopyPageFrames.MaxPages * PageSize.Bytes];
        private int taken;
        private ulong first;
        private int count;

        internal bool TryTake() => Interlocked.CompareExchange(ref taken, 1, 0) == 0;

        /// <summary>Adds <paramref name="page"/> to the run if it follows the last page and there is room; false otherwise.</summary>
        public bool TryAppend(PageIndex page, ReadOnlySpan<byte> data)
        {
            if (count > 0 && (page.Value != first + (ulong)count || count == PostcopyPageFrames.MaxPages)) return false;
            if (count == 0) first = page.Value;
            data.CopyTo(buffer.AsSpan(count * PageSize.Bytes, PageSize.Bytes));
            count++;
            return true;
        }

        /// <summary>Places the run gathered so far (if any) and starts an empty one.</summary>
        public void PlaceInto(MissingPageService service)
        {
            if (count == 0) return;
            int pages = count;
            count = 0;
            service.PlaceRun(new PageIndex(first), buffer.AsSpan(0, pages * PageSize.Bytes));
        }

        /// <summary>Drops whatever was gathered and frees the buffer for the next payload.</summary>
        public void Return()
        {
            count = 0;
            Volatile.Write(ref taken, 0);
        }
    }
}
