namespace Tern.Machine.Tests.Postcopy;

/// <summary>
/// Forces a full GC every few milliseconds while a guest runs on missing pages. A managed thread blocked on a missing
/// page would make such a GC wait forever (and with it every thread that could place the page), so a run that keeps
/// going under this churn shows that no managed thread ever faults on a missing page.
/// </summary>
internal sealed class GcChurn : IDisposable
{
    private readonly Thread thread;
    private volatile bool stop;

    public GcChurn()
    {
        thread = new Thread(() =>
        {
            while (!stop)
            {
                GC.Collect();
                Interlocked.Increment(ref collections);
                Thread.Sleep(2);
            }
        }) { IsBackground = true, Name = "postcopy test GC churn" };
        thread.Start();
    }

    private long collections;

    public long Collections => Interlocked.Read(ref collections);

    public void Dispose()
    {
        stop = true;
        thread.Join(TimeSpan.FromSeconds(10));
    }
}
