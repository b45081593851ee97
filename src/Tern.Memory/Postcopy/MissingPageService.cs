using System.Diagnostics;
using Tern.Os;
using Tern.Os.Userfault;

namespace Tern.Memory.Postcopy;

/// <summary>
/// Serves the pages of guest RAM that have not arrived yet, so the guest can run before all of RAM is here. Guest RAM
/// is registered with userfaultfd in MISSING mode: any access to a missing page (a vCPU through KVM, a system call)
/// blocks and queues a fault; the fault thread asks the <see cref="IMissingPageSource"/> for the page, and the page is
/// placed atomically by <see cref="Place"/> when it comes. Pages that the background stream brings go through
/// <see cref="Place"/> too, never a plain copy into the mapping, which would fault on the missing page itself. Managed
/// code asks first (<see cref="IPageArrival"/>). Once every page has arrived the range is unregistered and RAM behaves
/// as usual.
/// </summary>
/// <remarks>
/// <para>Stopping (<see cref="Dispose"/>) never blocks for long and never writes wrong data into a page that has not
/// arrived: the fault thread stops within its poll period, managed waiters are told <see cref="PageWait.Stopped"/>,
/// and the userfaultfd is closed. Closing it releases any thread still blocked on a missing page, and the kernel then
/// fills that page with zeros, which would be wrong data for a guest that runs on. So the machine must be stopped
/// first: a vCPU blocked on a missing page inside KVM_RUN is interruptible (the pause kick makes KVM_RUN return EINTR,
/// kernels 6.3 and later), so pausing and destroying the machine works while pages are missing, and the service is
/// disposed after it. Pages never placed stay unmarked in <see cref="ReceivedPages"/>.</para>
/// <para>Only 4 KiB-page RAM is served: hugetlbfs RAM would need whole 2 MiB placements.</para>
/// </remarks>
public sealed class MissingPageService : IPageArrival, IDisposable
{
    private readonly GuestRam ram;
    private readonly ReceivedPages received;
    private readonly IMissingPageSource source;
    private readonly PageRequests requests;
    private readonly FaultLatencyHistogram latency = new();
    private readonly object arrivalGate = new();
    private readonly StalePageHandling handling;
    /// <summary>Overwrite only: pages a placer has taken (one bit each), so that no page is written twice through the file.</summary>
    private readonly ulong[]? claims;
    private UserfaultFd? uffd;
    private UserfaultReader? reader;
    private int waiters;
    private int registered; // 1 while RAM is registered with the userfaultfd
    private volatile bool stopped;
    private long kernelFaults;
    private long reportedMisses;
    private long pagesRequested;
    private long pagesPlaced;
    private long pagesAlreadyPresent;
    private long blockedTicks;
    private Exception? failure;

    /// <param name="handling">
    /// What <see cref="Start"/> does with the stale pages (<see cref="StalePageChoice"/>). Overwrite needs MINOR mode
    /// (<see cref="UserfaultFd.SupportsMinorShmem"/>) and the held pages mapped first (<see cref="StalePageChoice.PrepareAhead"/>).
    /// </param>
    public MissingPageService(GuestRam ram, ReceivedPages received, IMissingPageSource source, StalePageHandling handling = StalePageHandling.Drop)
    {
        if (received.PageCount != ram.PageCount)
            throw new ArgumentException($"the received-pages bitmap covers {received.PageCount} pages but guest RAM has {ram.PageCount}", nameof(received));
        this.ram = ram;
        this.received = received;
        this.source = source;
        this.handling = handling;
        if (handling == StalePageHandling.Overwrite) claims = new ulong[(ram.PageCount + 63) / 64];
        requests = new PageRequests(ram.PageCount);
    }

    /// <summary>What this service does with the stale pages.</summary>
    public StalePageHandling Handling => handling;

    /// <summary>Raised once, on the thread that placed the last missing page, after RAM has been unregistered.</summary>
    public event Action? Completed;

    /// <summary>Set when the fault thread failed; faults are then no longer served (the machine must be stopped).</summary>
    public Exception? Failure => Volatile.Read(ref failure);

    public bool IsComplete => received.IsComplete;

    /// <summary>RAM is registered: accesses to missing pages are being served.</summary>
    public bool IsServing => Volatile.Read(ref registered) == 1;

    public MissingPageCounters Counters => new(
        Interlocked.Read(ref kernelFaults),
        Interlocked.Read(ref reportedMisses),
        Interlocked.Read(ref pagesRequested),
        Interlocked.Read(ref pagesPlaced),
        Interlocked.Read(ref pagesAlreadyPresent),
        Stopwatch.GetElapsedTime(0, Interlocked.Read(ref blockedTicks)),
        latency.Counts());

    /// <summary>
    /// Makes every page not yet received missing (a page of RAM that holds data but is not marked received is stale,
    /// for example allocated ahead by the prefaulter or sent again by the source: Drop punches it out of the memfd,
    /// Overwrite unmaps it and keeps its page for the new data), registers RAM and starts the fault thread. Call it while the machine is paused, before restoring its state (restoring
    /// may make KVM write guest pages, which then fault and are served). With every page already received, it does
    /// nothing.
    /// </summary>
    public void Start()
    {
        if (ram.HugePages)
            throw new NotSupportedException("post-copy into huge-page guest RAM is not supported: start the destination without --huge-pages");
        if (uffd is not null || stopped) throw new InvalidOperationException("the missing-page service has already been started");
        bool overwrite = handling == StalePageHandling.Overwrite;
        if (overwrite)
        {
            // Every page held here is mapped before RAM is registered in MINOR mode (most already are, since
            // PrepareAhead), or its first access would be a userfault too: harmless for KVM's vCPUs, but a managed
            // thread (a simulated vCPU) blocked on one while a GC starts would hang the process (KVM-NOTES).
            PageRuns.ForEachPopulatedRun(ram, received.Contains, (first, count) => ram.Prefault(first.Address, count * PageSize.Bytes));
            PageRuns.ForEachPopulatedRun(ram, page => !received.Contains(page), ram.UnmapPages);
        }
        else DiscardStalePages();
        if (received.IsComplete) return;
        uffd = UserfaultFd.Open(overwrite ? UserfaultFeatures.MissingShmem | UserfaultFeatures.MinorShmem : UserfaultFeatures.MissingShmem);
        try
        {
            uffd.Register(ram.HostAddress, ram.Size, minor: overwrite);
            Volatile.Write(ref registered, 1);
            reader = new UserfaultReader(uffd, OnFault, OnReaderFailure);
            reader.Start();
        }
        catch
        {
            Volatile.Write(ref registered, 0);
            uffd.Dispose();
            throw;
        }
        // The last page may have been placed between the check above and the registration.
        if (received.IsComplete) Finish();
    }

    /// <summary>
    /// Places a page that arrived (requested or from the background stream) atomically, wakes whatever waits for it,
    /// and marks it received. A page already received is left as it is: in post-copy the source is paused, so a
    /// second copy of a page (requested and streamed at once) holds the same data. Thread-safe; allocation-free.
    /// </summary>
    public void Place(PageIndex page, ReadOnlySpan<byte> data)
    {
        if (data.Length != PageSize.Bytes)
            throw new ArgumentException($"a page is {PageSize.Bytes} bytes, got {data.Length}", nameof(data));
        PlaceRun(page, data);
    }

    /// <summary>
    /// Places consecutive pages that arrived together (<paramref name="data"/> holds them back to back, from
    /// <paramref name="first"/> on) as <see cref="Place"/> does each, with one placement per stretch of pages not yet
    /// received: a placement costs a system call, and a stream of 4 KiB pages made one per page the largest part of
    /// the destination's CPU time. Thread-safe; allocation-free.
    /// </summary>
    public void PlaceRun(PageIndex first, ReadOnlySpan<byte> data)
    {
        if (data.Length == 0 || data.Length % PageSize.Bytes != 0)
            throw new ArgumentException($"a run of pages is a positive multiple of {PageSize.Bytes} bytes, got {data.Length}", nameof(data));
        int count = data.Length / PageSize.Bytes;
        if (first.Value + (ulong)count > ram.PageCount)
            throw new ArgumentOutOfRangeException(nameof(first), $"pages {first.Value}-{first.Value + (ulong)count - 1} lie outside guest RAM ({ram.PageCount} pages)");
        int start = 0;
        while (start < count)
        {
            if (!TakeForPlacement(new PageIndex(first.Value + (ulong)start)))
            {
                Interlocked.Increment(ref pagesAlreadyPresent);
                start++;
                continue;
            }
            int end = start + 1;
            while (end < count && TakeForPlacement(new PageIndex(first.Value + (ulong)end))) end++;
            var stretch = new PageIndex(first.Value + (ulong)start);
            var bytes = data.Slice(start * PageSize.Bytes, (end - start) * PageSize.Bytes);
            PagePlacement placement;
            if (IsServing)
            {
                try
                {
                    placement = PlaceRegistered(stretch, bytes);
                }
                catch
                {
                    // Not placed: the pages may come again (a recovered link resends them), and must be taken then.
                    ReleaseClaims(stretch, end - start);
                    throw;
                }
            }
            else if (stopped) return; // nothing is placed after a stop: the machine is going away
            else
            {
                // Not started yet: RAM is plain memory, and the pages are written as usual.
                for (int i = 0; i < end - start; i++)
                    ram.WritePage(new PageIndex(stretch.Value + (ulong)i), bytes.Slice(i * PageSize.Bytes, PageSize.Bytes));
                placement = PagePlacement.Placed;
            }
            for (int i = start; i < end; i++) Arrived(new PageIndex(first.Value + (ulong)i), placement);
            start = end;
        }
    }

    /// <summary>
    /// Whether this placer places <paramref name="page"/>: not if it was received. With Overwrite the page is also
    /// claimed, once: its data goes through the file into a page that may be mapped as soon as it is continued, and a
    /// second write of the same page (arriving on both lanes) could then overwrite what the guest wrote since.
    /// </summary>
    private bool TakeForPlacement(PageIndex page)
    {
        if (received.Contains(page)) return false;
        if (claims is null) return true;
        ulong bit = 1UL << (int)(page.Value & 63);
        return (Interlocked.Or(ref claims[page.Value >> 6], bit) & bit) == 0;
    }

    private void ReleaseClaims(PageIndex first, int count)
    {
        if (claims is null) return;
        for (ulong p = first.Value; p < first.Value + (ulong)count; p++)
            Interlocked.And(ref claims[p >> 6], ~(1UL << (int)(p & 63)));
    }

    private PagePlacement PlaceRegistered(PageIndex first, ReadOnlySpan<byte> data)
    {
        nint address = ram.HostAddress + (nint)first.Address.Value;
        try
        {
            if (handling == StalePageHandling.Overwrite)
            {
                // Into the stale page (or a hole) through the file, then mapped: no page freed or allocated.
                ram.WritePagesThroughFile(first, data);
                return uffd!.Continue(address, (ulong)data.Length);
            }
            return data.IndexOfAnyExcept((byte)0) < 0
                ? uffd!.ZeroPage(address, (ulong)data.Length)
                : uffd!.Copy(address, data);
        }
        catch (OsException) when (!IsServing || AllReceived(first, data.Length / PageSize.Bytes))
        {
            // Raced with other placements of the same pages that completed RAM and unregistered it; the pages are there.
            return PagePlacement.SomeAlreadyPresent;
        }
        catch (ObjectDisposedException) when (stopped)
        {
            return PagePlacement.SomeAlreadyPresent;
        }
    }

    private bool AllReceived(PageIndex first, int count)
    {
        for (int i = 0; i < count; i++)
            if (!received.Contains(new PageIndex(first.Value + (ulong)i))) return false;
        return true;
    }

    private void Arrived(PageIndex page, PagePlacement placement)
    {
        if (placement == PagePlacement.SomeAlreadyPresent) Interlocked.Increment(ref pagesAlreadyPresent);
        // Marked only after the page is in place: whoever sees it marked may touch it.
        if (!received.Mark(page)) return;
        if (placement == PagePlacement.Placed) Interlocked.Increment(ref pagesPlaced);
        long waited = requests.Arrive(page, out bool byKernelFault);
        if (waited >= 0)
        {
            latency.Record(waited);
            // A vCPU blocked in the kernel waits from its fault to the placement; managed waiters time their own waits.
            if (byKernelFault) Interlocked.Add(ref blockedTicks, waited);
        }
        if (Volatile.Read(ref waiters) > 0)
            lock (arrivalGate) Monitor.PulseAll(arrivalGate);
        if (received.IsComplete) Finish();
    }

    /// <summary>A fault message from the kernel: serve a received hole at once, request anything else.</summary>
    private void OnFault(ulong address, bool minor)
    {
        Interlocked.Increment(ref kernelFaults);
        ulong offset = address - (ulong)ram.HostAddress;
        if (offset >= ram.Size) return; // not ours (cannot happen: only RAM is registered)
        var page = new PageIndex(offset / PageSize.Bytes);
        if (!received.Contains(page))
        {
            Request(page, byKernelFault: true);
            return;
        }
        // Received as zero and never written (a hole of the memfd), or placed since the fault: a zero page fills the
        // hole, or finds the placed page (EEXIST) and just wakes the faulting thread. A MINOR fault is a received page
        // in the file that is not mapped (held here but never mapped, or unmapped by the kernel): it is mapped.
        try
        {
            nint at = ram.HostAddress + (nint)page.Address.Value;
            var placement = minor ? uffd!.Continue(at, PageSize.Bytes) : uffd!.ZeroPage(at, PageSize.Bytes);
            if (placement == PagePlacement.Placed) Interlocked.Increment(ref pagesPlaced);
        }
        catch (OsException) when (!IsServing)
        {
            // Every page arrived and RAM was unregistered meanwhile: nothing waits on this fault any more.
        }
    }

    private void Request(PageIndex page, bool byKernelFault)
    {
        if (!requests.TryBegin(page, byKernelFault)) return;
        Interlocked.Increment(ref pagesRequested);
        source.RequestPage(page);
    }

    private void OnReaderFailure(Exception e)
    {
        Interlocked.CompareExchange(ref failure, e, null);
        lock (arrivalGate) Monitor.PulseAll(arrivalGate);
    }

    public bool IsPresent(PageIndex page) => received.Contains(page);

    public void ReportMissing(PageIndex page)
    {
        if (received.Contains(page)) return;
        Interlocked.Increment(ref reportedMisses);
        Request(page, byKernelFault: false);
    }

    public PageWait WaitUntilPresent(PageIndex page, int timeoutMilliseconds)
    {
        if (received.Contains(page)) return PageWait.Present;
        long started = Stopwatch.GetTimestamp();
        long deadline = started + timeoutMilliseconds * Stopwatch.Frequency / 1000;
        Interlocked.Increment(ref waiters);
        try
        {
            lock (arrivalGate)
            {
                while (true)
                {
                    // Checked under the lock that Place pulses after marking, so no arrival is missed.
                    if (received.Contains(page)) return PageWait.Present;
                    if (stopped || Failure is not null) return PageWait.Stopped;
                    long left = deadline - Stopwatch.GetTimestamp();
                    if (left <= 0) return PageWait.TimedOut;
                    Monitor.Wait(arrivalGate, TimeSpan.FromTicks(Math.Max(1, left * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref waiters);
            Interlocked.Add(ref blockedTicks, Stopwatch.GetTimestamp() - started);
        }
    }

    /// <summary>Every page has arrived: unregister RAM (it is plain memory again) and let the fault thread go.</summary>
    private void Finish()
    {
        if (Interlocked.Exchange(ref registered, 0) != 1) return;
        reader?.RequestStop();
        try
        {
            uffd!.Unregister(ram.HostAddress, ram.Size);
        }
        catch (ObjectDisposedException) when (stopped)
        {
            return;
        }
        Completed?.Invoke();
    }

    /// <summary>
    /// Drops the backing of every page that holds data but has not been received, so that it faults and is served
    /// instead of being read stale.
    /// </summary>
    private void DiscardStalePages() => PageDrop.Drop(ram, page => !received.Contains(page));

    /// <summary>
    /// Stops serving: the fault thread stops, managed waiters are told <see cref="PageWait.Stopped"/>, and the
    /// userfaultfd is closed. Stop the machine first (see the remarks).
    /// </summary>
    public void Dispose()
    {
        if (stopped) return;
        stopped = true;
        lock (arrivalGate) Monitor.PulseAll(arrivalGate);
        reader?.Stop(TimeSpan.FromSeconds(5));
        Volatile.Write(ref registered, 0);
        uffd?.Dispose();
    }
}
