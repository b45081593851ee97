using System.Runtime.ExceptionServices;

namespace Tern.Migration.Tests.Compression;

/// <summary>
/// A dedicated thread for a test action (a pipeline owner, a producer), joined with a time limit so that a hang fails
/// the test instead of stalling the run; an exception on it is re-raised by <see cref="Finish"/>.
/// </summary>
internal sealed class TestThread
{
    private readonly Thread _thread;
    private ExceptionDispatchInfo? _failure;

    private TestThread(Action action)
    {
        _thread = new Thread(() =>
        {
            try { action(); }
            catch (Exception e) { _failure = ExceptionDispatchInfo.Capture(e); }
        }) { IsBackground = true, Name = "tern-test" };
    }

    public static TestThread Start(Action action)
    {
        var thread = new TestThread(action);
        thread._thread.Start();
        return thread;
    }

    public bool IsAlive => _thread.IsAlive;

    /// <summary>Waits up to <paramref name="limit"/>; returns false if the thread is still running, else rethrows its failure.</summary>
    public bool Finish(TimeSpan limit)
    {
        if (!_thread.Join(limit)) return false;
        _failure?.Throw();
        return true;
    }
}
