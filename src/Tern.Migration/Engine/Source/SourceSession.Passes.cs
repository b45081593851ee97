using System.Diagnostics;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Api;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;
using Tern.Migration.Throttle;
using Tern.Os;

namespace Tern.Migration.Engine.Source;

internal sealed partial class SourceSession
{
    private DirtyBitmap? dirty;
    /// <summary>The first pass's pages left for the next pass (<see cref="DeferredPages"/>), until the sync after it takes them.</summary>
    private DeferredPages? deferred;
    private long lastSyncTimestamp;
    /// <summary>The pass being sent (or last sent); 0 before the first.</summary>
    internal uint Pass { get; set; }
    /// <summary>Set when x-timeout ended the migration (a failure, not the operator's cancel).</summary>
    internal bool TimedOut { get => Volatile.Read(ref timedOut); set => Volatile.Write(ref timedOut, value); }
    private bool timedOut;
    /// <summary>Pre-copy is still running: the x-timeout may end it; once the switchover begins, only its deadline may.</summary>
    internal bool Iterating { get => Volatile.Read(ref iterating); set => Volatile.Write(ref iterating, value); }
    private bool iterating = true;
    private DirtySyncResult lastSync;
    private TimeSpan lastSyncPeriod;
    private long transferredAtLastThrottle;

    /// <summary>Starts dirty tracking for pre-copy, marks all of RAM to send, and returns the pages that are not holes.</summary>
    internal DirtyBitmap StartTracking(IDirtyTracker tracker)
    {
        tracker.Start();
        lastSyncTimestamp = Stopwatch.GetTimestamp();
        dirty = new DirtyBitmap(machine.Memory.PageCount);
        dirty.SetAll();
        counters.Remaining((long)machine.Memory.PageCount);
        return PopulatedPages(machine.Memory);
    }

    /// <summary>Keeps the expected downtime and the converging flag for query-migrate, and says when the guest stops converging.</summary>
    internal void UpdateConvergence(in ConvergenceSnapshot snapshot)
    {
        lock (gate)
        {
            expectedDowntimeMs = ConvergencePolicy.ExpectedDowntime(snapshot) is { } d ? (long)d.TotalMilliseconds : -1;
            bool nowConverging = ConvergencePolicy.IsConverging(snapshot);
            if (converging && !nowConverging) Log($"not converging: {ConvergencePolicy.WhyNotConverging(snapshot)}");
            converging = nowConverging;
        }
    }

    /// <summary>The operator changed a setting since the last plan was made.</summary>
    internal bool SettingsChangedSincePlan => Volatile.Read(ref settingsVersion) != plannedAtSettings;

    /// <summary>Bumped by every change of the operator's settings, so that a plan made before one is made again.</summary>
    private long settingsVersion;
    private long plannedAtSettings;

    /// <summary>
    /// Asks the planner for pass <paramref name="next"/>'s plan, from what the engine measured and the operator set
    /// now, checks that it can be applied, and keeps it for <c>query-migrate</c>'s <c>x-plan</c>.
    /// </summary>
    internal PassPlan PlanPass(uint next, PassReport? latest, ThrottleMeasurement? syncPeriod, bool final)
    {
        plannedAtSettings = Volatile.Read(ref settingsVersion);
        var inputs = new PlanInputs
        {
            Pass = next,
            Final = final,
            Latest = latest,
            History = history.Snapshot(),
            Parameters = settings.Parameters,
            Capabilities = settings.Capabilities.Where(c => c.Value).Select(c => c.Key).ToHashSet(),
            Negotiated = negotiated,
            SyncPeriod = syncPeriod,
            WorkingSetPages = workingSetPages,
            XbzrleCacheBytes = encoder?.CacheBytes ?? 0,
            XbzrleCacheHeldBytes = encoder?.CacheHeldBytes ?? 0,
            GuestRamBytes = machine.Memory.Size,
            HostMemory = HostMemoryInfo.Read(),
            HostCores = Environment.ProcessorCount,
            Elapsed = Stopwatch.GetElapsedTime(startedAt),
        };
        var plan = WithPostcopyRequest(planner.Plan(inputs), final);
        if (PassPlanCheck.Problem(plan, negotiated, machine.Description.VcpuCount, settings.IsEnabled(MigrationCapability.PostcopyRam)) is { } problem)
            throw new InvalidOperationException($"the pass planner's plan for pass {next} cannot be applied: {problem}");
        var cacheNow = encoder?.CacheBytes ?? 0;
        if (plan.Encoding.XbzrleCacheReason is { } why && plan.Encoding.XbzrleCacheBytes != cacheNow)
            Log($"xbzrle cache {ByteSize.Format(cacheNow)} -> {ByteSize.Format(plan.Encoding.XbzrleCacheBytes)}: {why}");
        if (plan.Encoding is { Xbzrle: true, XbzrleThreadsReason: { } threadsWhy } e && e.XbzrleThreads != plannedXbzrleThreads)
        {
            Log($"xbzrle threads {plannedXbzrleThreads} -> {e.XbzrleThreads}: {threadsWhy}");
            plannedXbzrleThreads = e.XbzrleThreads;
        }
        lock (gate) latestPlan = (next, plan);
        return plan;
    }

    private (uint Pass, PassPlan Plan)? latestPlan;
    /// <summary>The XBZRLE threads the plans asked for last (for the log when that changes).</summary>
    private int plannedXbzrleThreads = 1;

    /// <summary>The sync period that just ended, as the throttles measure it, with the throttle that was in force.</summary>
    internal ThrottleMeasurement SyncPeriodMeasurement(in ConvergenceSnapshot snapshot)
    {
        long transferred = counters.Transferred;
        // The throttle the vCPUs actually ran under, whichever of the migration and an operator's dirty limit imposed it.
        var measured = new ThrottleMeasurement(lastSyncPeriod, transferred - transferredAtLastThrottle, lastSync.DirtyPages, lastSync.PerVcpuPages,
            throttle.InForce.ToArray(), snapshot.WireBytesPerPage, snapshot.BandwidthBytesPerSecond, settings.Parameters.DowntimeLimitMs);
        transferredAtLastThrottle = transferred;
        throttle.Measured(measured);
        return measured;
    }

    private static DirtyBitmap PopulatedPages(IGuestMemory memory)
    {
        var populated = new DirtyBitmap(memory.PageCount);
        foreach (var range in memory.PopulatedRanges())
            for (ulong p = 0; p < range.PageCount; p++) populated.Set(new PageIndex(range.FirstPage.Value + p));
        return populated;
    }

    /// <param name="last">The sync in the switchover, the guest paused: tracking stops after it, so it is not re-armed.</param>
    internal ConvergenceSnapshot SyncDirtyPages(IDirtyTracker tracker, bool last = false)
    {
        var result = last ? tracker.SyncLast(dirty!) : tracker.Sync(dirty!);
        if (deferred is { } pending)
        {
            result = pending.MergeInto(dirty!, result);
            deferred = null;
        }
        MeasureWorkingSet();
        long now = Stopwatch.GetTimestamp();
        double seconds = Math.Max(Stopwatch.GetElapsedTime(lastSyncTimestamp, now).TotalSeconds, 1e-6);
        lastSyncTimestamp = now;
        lastSync = result;
        lastSyncPeriod = TimeSpan.FromSeconds(seconds);
        long remaining = dirty!.Count();
        double dirtyRate = result.DirtyPages / seconds;
        counters.DirtySync((long)dirtyRate, remaining);
        return new ConvergenceSnapshot(Pass, remaining, estimator.WireBytesPerPage, estimator.BandwidthBytesPerSecond,
            dirtyRate, settings.Parameters.DowntimeLimitMs, lastPassSent is { } sent ? sent.Kinds.Total : 0);
    }

    /// <summary>
    /// Sends every page set in <see cref="dirty"/> (and clears it) as pass <see cref="pass"/>: PassBegin on the main
    /// channel, page batches spread over the pass's channels, PassEnd on each. Returns once all of it is written.
    /// </summary>
    /// <param name="planned">The plan's encodings for the pass.</param>
    /// <param name="populated">For the first pass only: the pages that were not holes when tracking started.</param>
    internal void SendPass(bool final, PassEncoding planned, DirtyBitmap? populated = null)
    {
        int channelCount = EnsureChannels();
        LastPassChannels = channelCount;
        var started = Stopwatch.GetTimestamp();
        long bytesBefore = channels.Sum(c => c.Connection.BytesWritten);
        var kindsBefore = PageKinds.Of(counters);
        var encoding = EncoderSettingsFor(planned);
        AnnounceCapabilities(encoding);

        var payload = new PayloadWriter();
        new PassBeginMessage(Pass, channelCount, final).Write(payload);
        channels[0].Send(MessageType.PassBegin, payload);

        long pagesBefore = counters.PagesSent;
        // query-migrate shows live rates: refresh them while the pass runs, not only when it ends.
        using var liveRates = new Timer(_ => RefreshPassRates(started, bytesBefore, pagesBefore), null, RateRefresh, RateRefresh);
        var writer = new PassWriter(Pass, channels, channelCount);
        var encoder = PrepareEncoder();
        // Each XBZRLE worker starts its batches on another channel, so that the pass's first frames spread out.
        long remaining = dirty!.Count();
        encoder.BeginPass(writer, encoding, populated, t => new PassWriter(Pass, channels, channelCount, firstChannel: t + 1), cancel.Token, remaining);
        var linkBefore = LinkFigures();
        var tracker = machine.DirtyTracker;
        deferred = !final && Pass == 1 && tracker.IsTracking ? new DeferredPages(dirty.PageCount, lastSyncTimestamp, lastSync.Duration) : null;
        long done = 0;
        long encodeStarted = Stopwatch.GetTimestamp();
        foreach (var page in dirty.SetPages())
        {
            if (deferred?.Skip(page) != true) encoder.Encode(page);
            if ((++done & 1023) == 0)
            {
                counters.Remaining(remaining - done);
                if (failure is not null || cancel.IsCancellationRequested) cancel.Token.ThrowIfCancellationRequested();
                // Only once post-copy is asked for (see DeferredPages); not counted in dirty-sync-count, which counts the
                // syncs between passes as QEMU's does.
                if (PostcopyRequested) deferred?.SyncIfDue(tracker);
            }
        }
        encoder.EndPass();
        if (deferred is { Skipped: > 0 } d)
            Log($"pass {Pass}: {d.Skipped} pages the guest wrote again before the pass reached them wait for the next pass " +
                $"({d.Syncs} syncs in the pass, {d.SyncTime.TotalMilliseconds:0.0} ms)");
        // The thread-time encoding took: the workers' own, or this thread's minus its waits for the channels.
        long encodeTicks = encoder.WorkerEncodeTicks ?? Stopwatch.GetTimestamp() - encodeStarted - writer.SendTicks;
        var records = writer.Finish();
        dirty.ClearAll();
        counters.Remaining(0);

        for (int c = 0; c < channelCount; c++)
        {
            payload.Reset();
            new PassEndMessage(Pass, records[c]).Write(payload);
            channels[c].Send(MessageType.PassEnd, payload);
        }
        foreach (var c in channels) c.WaitUntilSent();

        liveRates.Dispose();
        var elapsed = Stopwatch.GetElapsedTime(started);
        long bytes = channels.Sum(c => c.Connection.BytesWritten) - bytesBefore;
        estimator.RecordPass(bytes, elapsed, writer.NonZeroPages, writer.NonZeroBytes);
        lastPassSent = new PassSent(Pass, final, (long)Stopwatch.GetElapsedTime(startedAt, started).TotalMilliseconds, elapsed, bytes,
            PageKinds.Of(counters) - kindsBefore, encoding,
            new EncodingFigures(encoder.XbzrleThreads, Stopwatch.GetElapsedTime(0, Math.Max(encodeTicks, 0)).TotalSeconds, LinkBytesPerSecond(linkBefore)),
            deferred?.Skipped);
        long pagesInPass = records.Sum(r => (long)r);
        counters.PassRates(bytes * 8 / 1e6 / Math.Max(elapsed.TotalSeconds, 1e-6), (long)(pagesInPass / Math.Max(elapsed.TotalSeconds, 1e-6)));
        AfterPass();
    }

    private PassSent? lastPassSent;

    /// <summary>How many channels the last pass sent used (0 before the first).</summary>
    internal int LastPassChannels { get; private set; }
    private readonly PassHistory history = new();

    /// <summary>The passes so far (the most recent <see cref="PassHistory.Capacity"/>), oldest first.</summary>
    public IReadOnlyList<PassReport> History => history.Snapshot();

    /// <summary>The report of the pass just sent (and of the sync after it, when there was one), before its decision.</summary>
    internal PassReport? PassReportOf(ConvergenceSnapshot? synced)
    {
        if (lastPassSent is not { } sent) return null;
        double seconds = Math.Max(sent.Elapsed.TotalSeconds, 1e-6);
        return new PassReport
        {
            Pass = sent.Pass,
            Final = sent.Final,
            StartMs = sent.StartMs,
            SendMs = sent.Elapsed.TotalMilliseconds,
            SyncMs = synced is null ? null : lastSync.Duration.TotalMilliseconds,
            SyncPeriodMs = synced is null ? null : lastSyncPeriod.TotalMilliseconds,
            NormalPages = sent.Kinds.Normal,
            ZeroPages = sent.Kinds.Zero,
            XbzrlePages = sent.Kinds.Xbzrle,
            CompressedPages = sent.Kinds.Compressed,
            WireBytes = sent.WireBytes,
            BytesPerSecond = sent.WireBytes / seconds,
            DirtyPages = synced is null ? null : lastSync.DirtyPages,
            DirtyPagesPerSecond = synced?.DirtyPagesPerSecond,
            DirtyPagesPerVcpu = synced is null ? null : lastSync.PerVcpuPages,
            RemainingPages = synced?.RemainingPages,
            WireBytesPerPage = estimator.WireBytesPerPage,
            EstimatedBytesPerSecond = estimator.BandwidthBytesPerSecond,
            ExpectedDowntimeMs = synced is { } s && ConvergencePolicy.ExpectedDowntime(s) is { } d ? (long)d.TotalMilliseconds : null,
            Converging = synced is { } c ? ConvergencePolicy.IsConverging(c) : null,
            ThrottlePercent = throttle.MaxPercent is null ? null : throttle.PerVcpu,
            XbzrleCacheBytes = sent.Encoding.Xbzrle ? sent.Encoding.XbzrleCacheBytes : 0,
            XbzrleThreads = sent.Figures.Threads,
            EncodeBytesPerThreadSecond = sent.Figures.EncodeSeconds > 0 ? sent.WireBytes / sent.Figures.EncodeSeconds : null,
            LinkBytesPerSecond = sent.Figures.LinkBytesPerSecond,
            CompressMethod = sent.Encoding.Compress ? sent.Encoding.CompressMethod : null,
            DeferredPages = sent.DeferredPages,
        };
    }

    /// <summary>Adds a pass's report, with the decision taken after it and why, to the history, and raises it.</summary>
    internal PassReport? RecordPass(PassReport? sent, string decision, string reason)
    {
        if (sent is null) return null;
        // The throttle the next pass runs under: the plan's, applied by now.
        var report = sent with { ThrottlePercent = throttle.MaxPercent is null ? null : throttle.PerVcpu, Decision = decision, DecisionReason = reason };
        history.Add(report);
        Event?.Invoke(new MigrationPassCompleted(report));
        return report;
    }

    /// <summary>What <see cref="SendPass"/> measured, until the sync after it completes the report.</summary>
    private readonly record struct PassSent(uint Pass, bool Final, long StartMs, TimeSpan Elapsed, long WireBytes, PageKinds Kinds, EncoderSettings Encoding,
        EncodingFigures Figures, long? DeferredPages);

    /// <summary>What encoding a pass cost and what the link carried: the XBZRLE thread decision's inputs.</summary>
    /// <param name="Threads">Threads that encoded XBZRLE (0: XBZRLE was off).</param>
    /// <param name="EncodeSeconds">Thread-seconds spent encoding, waits for the channels excluded.</param>
    /// <param name="LinkBytesPerSecond">What the channels carried while they were writing (not waiting for frames); null when they wrote nothing.</param>
    private readonly record struct EncodingFigures(int Threads, double EncodeSeconds, double? LinkBytesPerSecond);

    /// <summary>Per channel: bytes written so far and the writer's busy time.</summary>
    private (long Bytes, long BusyTicks)[] LinkFigures()
    {
        lock (gate) return channels.Select(c => (c.Connection.BytesWritten, c.BusyTicks)).ToArray();
    }

    /// <summary>
    /// The rate the link carried while busy since <paramref name="before"/>: the channels write in parallel, so their
    /// rates (bytes over each one's busy time) add up. Null when nothing was written.
    /// </summary>
    private double? LinkBytesPerSecond((long Bytes, long BusyTicks)[] before)
    {
        var now = LinkFigures();
        double rate = 0;
        for (int c = 0; c < now.Length; c++)
        {
            var (bytes0, busy0) = c < before.Length ? before[c] : (0, 0);
            long bytes = now[c].Bytes - bytes0;
            double busy = Stopwatch.GetElapsedTime(0, now[c].BusyTicks - busy0).TotalSeconds;
            if (bytes > 0 && busy > 0) rate += bytes / busy;
        }
        return rate > 0 ? rate : null;
    }

    /// <summary>How often mbps and pages-per-second are refreshed during a pass.</summary>
    private static readonly TimeSpan RateRefresh = TimeSpan.FromMilliseconds(100);

    /// <summary>The rates of the pass so far: bytes on the wire and pages encoded since it began.</summary>
    private void RefreshPassRates(long started, long bytesBefore, long pagesBefore)
    {
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (seconds <= 0) return;
        long bytes;
        lock (gate) bytes = channels.Sum(c => c.Connection.BytesWritten) - bytesBefore;
        long pages = counters.PagesSent - pagesBefore;
        counters.PassRates(bytes * 8 / 1e6 / seconds, (long)(pages / seconds));
    }
}
