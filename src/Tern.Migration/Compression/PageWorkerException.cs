using Tern.Memory;

namespace Tern.Migration.Compression;

/// <summary>
/// A pipeline worker failed: its work function threw on a page, or its loop died. Raised on the owner's thread when it
/// reaches that page's result, so no failure is lost and the owner never waits for a result that cannot come.
/// </summary>
public sealed class PageWorkerException : Exception
{
    public PageWorkerException(string role, int worker, PageIndex? page, Exception inner)
        : base(page is { } p
            ? $"{role} worker {worker} failed on {p}: {inner.Message}"
            : $"{role} worker {worker} stopped: {inner.Message}", inner)
    {
        Worker = worker;
        Page = page;
    }

    public int Worker { get; }

    /// <summary>The page being processed, or null when the worker loop itself failed.</summary>
    public PageIndex? Page { get; }
}
