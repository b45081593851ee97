namespace Tern.Memory.Postcopy;

/// <summary>
/// For managed code that touches guest RAM while pages are still missing (the simulated guest's vCPU threads): ask
/// before touching, and wait for a missing page in a wait the runtime can suspend for a GC, instead of faulting on it.
/// </summary>
/// <remarks>
/// A managed thread that touches a missing page blocks in the kernel while the runtime counts it as running managed
/// code: a GC started by any thread then waits for it, and every other managed thread (the one that would place the
/// page included) stops at its next safe point, so the page never comes and the process hangs. So managed code must
/// touch a page only once <see cref="IsPresent"/> says it is there; vCPU threads inside KVM_RUN and threads inside
/// system calls are in native code and may fault freely.
/// </remarks>
public interface IPageArrival
{
    /// <summary>Every page is present: no more checks are needed.</summary>
    bool IsComplete { get; }

    /// <summary>The page holds its final data and may be touched.</summary>
    bool IsPresent(PageIndex page);

    /// <summary>Reports an access that found the page missing (counted as a fault) and requests the page if it is not requested yet.</summary>
    void ReportMissing(PageIndex page);

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> for the page, in a GC-safe wait. Never blocks beyond the
    /// timeout, and returns <see cref="PageWait.Stopped"/> at once once no page will ever come (the service stopped).
    /// </summary>
    PageWait WaitUntilPresent(PageIndex page, int timeoutMilliseconds);
}

/// <summary>How a wait for a page ended.</summary>
public enum PageWait
{
    Present,
    TimedOut,

    /// <summary>The service was stopped before the page arrived: it will never arrive, so do not touch it.</summary>
    Stopped,
}
