using Tern.Memory;

namespace Tern.Migration.Engine.XbzrleThreads;

/// <summary>
/// Pages handed to an encoding worker in one go (one queue operation and at most one wake-up per chunk, not per page),
/// or the end of a pass. Chunks are recycled between the migration thread and the worker.
/// </summary>
internal sealed class PageChunk
{
    /// <summary>Pages a chunk holds: about 64 µs of XBZRLE encoding, long enough to amortise a wake-up.</summary>
    public const int Capacity = 64;

    public readonly PageIndex[] Pages = new PageIndex[Capacity];
    public int Count;

    /// <summary>No pages: the pass ends; the worker sends what it holds and reports back.</summary>
    public bool EndOfPass;

    public bool IsFull => Count == Capacity;

    public void Add(PageIndex page) => Pages[Count++] = page;

    public void Reset()
    {
        Count = 0;
        EndOfPass = false;
    }
}
