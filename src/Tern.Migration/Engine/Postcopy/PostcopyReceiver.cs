using System.Diagnostics;
using Tern.Machine;
using Tern.Machine.Postcopy;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Memory.Postcopy;
using Tern.Migration.Api;
using Tern.Migration.Pages;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Postcopy;

/// <summary>
/// The destination's side of post-copy, from PostcopyBegin on: it makes the stale pages missing (the
/// <see cref="MissingPageService"/> discards and registers them), restores the state and, on Commit, resumes the guest;
/// then it places every page that arrives (background stream on the main connection, requested pages on the urgent
/// lane) until all have. Faults become requests through <see cref="PageRequestWriter"/>. It never writes a page into
/// RAM directly: a missing page is placed atomically, or a vCPU could run on half of it.
/// </summary>
internal sealed class PostcopyReceiver : IDisposable
{
    private readonly IVirtualMachine machine;
    private readonly ReceivedPages received;
    private readonly ReceivedPages digested;
    private readonly PageSetDigest? digest;
    private readonly long stalePages;
    private long resumedAt, lastPageAt;
    private long bytes, pages;
    /// <summary>Placements inside their digest step (<see cref="Place"/>); <see cref="Done"/> waits for none.</summary>
    private int digesting;
    private readonly PageRunStaging staging = new();

    /// <param name="verify">Keep the digest of the pages as they arrive (x-verify).</param>
    /// <param name="staleHandling">Drop the stale pages, or write over them in place (chosen before the pause).</param>
    public PostcopyReceiver(IVirtualMachine machine, DirtyBitmap stale, bool verify, Action<Exception> onFailure,
        StalePageHandling staleHandling = StalePageHandling.Drop)
    {
        this.machine = machine;
        var ram = PostcopyLaunch.RamOf(machine);
        received = ReceivedPages.AllBut(stale);
        digested = ReceivedPages.AllBut(stale);
        stalePages = stale.Count();
        if (verify)
        {
            // Before the service starts, every page is still plain memory: the pages held at the switch are final.
            digest = new PageSetDigest();
            digest.AddMemory(machine.Memory, page => !stale.IsSet(page));
        }
        Requests = new PageRequestWriter(received.Contains, onFailure);
        Service = new MissingPageService(ram, received, Requests, staleHandling);
    }

    public MissingPageService Service { get; }

    /// <summary>Pages with data dropped before the pause (PostcopyDiscard; set by the destination).</summary>
    public long DroppedAheadPages { get; set; }

    /// <summary>How many times post-copy was recovered after a pause (set by the destination).</summary>
    public int Recoveries { get; set; }
    public PageRequestWriter Requests { get; }
    public bool IsComplete => received.IsComplete;
    public long MissingPages => (long)received.PageCount - received.Count;

    /// <summary>The pages held now (set = received), for PostcopyReceived after a broken link.</summary>
    public DirtyBitmap ReceivedSnapshot() => received.Snapshot();

    /// <summary>Discards the stale pages, registers them as missing and restores the state (the guest stays paused).</summary>
    public void Prepare(ReadOnlySpan<byte> state) => PostcopyLaunch.Prepare(machine, Service, state);

    /// <summary>The source committed: run the guest here.</summary>
    public void Resume()
    {
        Volatile.Write(ref resumedAt, Stopwatch.GetTimestamp());
        machine.Resume();
    }

    /// <summary>Places the pages of one PostcopyPages payload (from either lane); thread-safe.</summary>
    public void Apply(ReadOnlySpan<byte> payload)
    {
        Interlocked.Add(ref bytes, Frame.HeaderSize + payload.Length);
        var reader = new PostcopyPageFrames.Reader(payload, received.PageCount);
        var run = staging.Take();
        try
        {
            while (reader.Next(out var page, out var data))
            {
                Record(page, data);
                if (run is null) Service.Place(page, data);
                else if (!run.TryAppend(page, data))
                {
                    run.PlaceInto(Service);
                    run.TryAppend(page, data);
                }
            }
            run?.PlaceInto(Service);
        }
        finally
        {
            run?.Return();
        }
        if (received.IsComplete) Interlocked.CompareExchange(ref lastPageAt, Stopwatch.GetTimestamp(), 0);
    }

    /// <summary>
    /// Everything about a page is recorded before it is placed: whoever sees every page received (the main thread,
    /// about to report completion) must find every digest and count in. The same page may arrive on both lanes at
    /// once: the one that marks it digested adds it, and the other may place it (completing RAM) before that add has
    /// finished, so the digest is read only once no placement is inside its digest step (<see cref="Done"/>).
    /// </summary>
    private void Record(PageIndex page, ReadOnlySpan<byte> data)
    {
        if (digest is not null)
        {
            // Counted before the mark: a second placer that sees the mark also sees this placement in flight.
            Interlocked.Increment(ref digesting);
            try
            {
                if (digested.Mark(page)) digest.Add(page, data);
            }
            finally
            {
                Interlocked.Decrement(ref digesting);
            }
        }
        Interlocked.Increment(ref pages);
    }

    /// <summary>Waits until every page has arrived (the source said it sent them all); false on timeout.</summary>
    public bool WaitForAll(TimeSpan patience, CancellationToken cancel)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(patience.TotalSeconds * Stopwatch.Frequency);
        while (!received.IsComplete)
        {
            cancel.ThrowIfCancellationRequested();
            if (Stopwatch.GetTimestamp() > deadline) return false;
            Thread.Sleep(1);
        }
        return true;
    }

    public PostcopyDoneMessage Done()
    {
        Interlocked.CompareExchange(ref lastPageAt, Stopwatch.GetTimestamp(), 0);
        // A duplicate arrival may have completed RAM while the first is still adding the page to the digest: the digest
        // sent would be one page short of the source's (1-2% of KVM post-copy runs on a loaded machine failed their
        // verification so). Adds take microseconds.
        SpinWait.SpinUntil(() => Volatile.Read(ref digesting) == 0);
        return new((ulong)received.Count, digest is not null, digest?.Value ?? 0);
    }

    /// <summary>Tern's post-copy figures for query-migrate.</summary>
    public PostcopyStats Stats()
    {
        var c = Service.Counters;
        long started = Volatile.Read(ref resumedAt), last = Volatile.Read(ref lastPageAt);
        return new PostcopyStats
        {
            StalePages = stalePages,
            DroppedAheadPages = DroppedAheadPages,
            StalePageHandling = Service.Handling == StalePageHandling.Overwrite ? "overwrite" : "drop",
            MissingPages = MissingPages,
            Faults = c.Faults,
            PagesRequested = c.PagesRequested,
            RequestMessages = Requests.MessagesSent,
            RequestsRepeated = Requests.Repeated,
            Recoveries = Recoveries,
            PagesReceived = Interlocked.Read(ref pages),
            BytesReceived = Interlocked.Read(ref bytes),
            VcpuBlockedMs = (long)c.BlockedTime.TotalMilliseconds,
            FaultLatencyBucketsUs = FaultLatencyHistogram.UpperBoundsMicroseconds,
            FaultLatencyCounts = c.LatencyBuckets,
            FaultLatencyP50Us = FaultLatencyHistogram.QuantileUpperBound(c.LatencyBuckets, 0.5),
            FaultLatencyP99Us = FaultLatencyHistogram.QuantileUpperBound(c.LatencyBuckets, 0.99),
            LastPageMs = started != 0 && last != 0 ? (long)Stopwatch.GetElapsedTime(started, last).TotalMilliseconds : null,
        };
    }

    /// <summary>
    /// Only once every page has arrived (the service has unregistered RAM) or the machine is stopped: closing the
    /// service with pages missing would let a blocked vCPU run on a zero page.
    /// </summary>
    public void Dispose()
    {
        Requests.Dispose();
        Service.Dispose();
        digest?.Dispose();
    }
}
