using System.Diagnostics;

namespace Tern.Migration.Compression;

/// <summary>
/// The pipeline's page buffers: a fixed set of jobs made up front (workers × queue depth), rented and returned by the
/// owner thread only, so it needs no synchronisation and the hot path allocates nothing.
/// </summary>
internal sealed class PageJobPool
{
    private readonly PageJob[] _free;
    private int _count;

    public PageJobPool(int size)
    {
        _free = new PageJob[size];
        for (var i = 0; i < size; i++) _free[i] = new PageJob();
        _count = size;
    }

    public int Available => _count;

    public PageJob Rent()
    {
        // The owner never has more jobs out than the workers' combined depth, which is the pool's size.
        if (_count == 0) throw new InvalidOperationException("page pipeline: the buffer pool is empty (more pages in flight than workers × queue depth)");
        return _free[--_count];
    }

    public void Return(PageJob job)
    {
        Debug.Assert(_count < _free.Length, "a job was returned twice");
        _free[_count++] = job;
    }
}
