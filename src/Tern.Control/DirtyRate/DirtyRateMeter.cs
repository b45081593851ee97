using System.Diagnostics;
using Tern.Machine;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Memory.DirtyRate;

namespace Tern.Control.DirtyRate;

/// <summary>
/// Runs <c>calc-dirty-rate</c> measurements, one at a time, each on its own background task, and keeps the last
/// result for <c>query-dirty-rate</c>. Page sampling only reads guest memory. The dirty-bitmap and dirty-ring modes
/// turn the machine's dirty tracking on for the window and off again at its end (or when cancelled), since tracking
/// makes every first write to a page after a sync fault. While such a measurement runs it owns the dirty tracker:
/// <see cref="UsesDirtyTracking"/> tells the VM host to keep migrations off it.
/// </summary>
public sealed class DirtyRateMeter : IDisposable
{
    private readonly object gate = new();
    private readonly Random random;
    private readonly Action<string>? log;
    private DirtyRateInfo info = DirtyRateInfo.Unstarted;
    private CancellationTokenSource? cancel;
    private Task? running;
    private volatile bool usesDirtyTracking;

    public DirtyRateMeter(Action<string>? log = null, Random? random = null)
    {
        this.log = log;
        this.random = random ?? Random.Shared;
    }

    /// <summary>The current or last measurement.</summary>
    public DirtyRateInfo Info { get { lock (gate) return info; } }

    /// <summary>True from the start of a dirty-bitmap or dirty-ring measurement until its tracking has been stopped.</summary>
    public bool UsesDirtyTracking => usesDirtyTracking;

    /// <summary>
    /// Starts a measurement of <paramref name="machine"/> and returns at once, with the status already
    /// <see cref="DirtyRateStatus.Measuring"/>. Throws <see cref="VmControlException"/> for a request that cannot run here.
    /// </summary>
    public void Begin(IVirtualMachine machine, DirtyRateRequest request)
    {
        if (request.Problem() is { } problem) throw new VmControlException(problem);
        lock (gate)
        {
            if (info.Status == DirtyRateStatus.Measuring) throw new VmControlException("the dirty rate is already being measured; query-dirty-rate says when it is done");
            var tracker = machine.DirtyTracker;
            if (request.Mode != DirtyRateMode.PageSampling)
            {
                bool ring = tracker is KvmDirtyRingTracker;
                if (request.Mode == DirtyRateMode.DirtyRing && !ring)
                    throw new VmControlException($"mode dirty-ring needs KVM's dirty rings, and this VM tracks dirty pages with {tracker.Name} (start it with --dirty-tracking ring, or use mode dirty-bitmap or page-sampling)");
                if (request.Mode == DirtyRateMode.DirtyBitmap && ring)
                    throw new VmControlException("mode dirty-bitmap is not available: this VM tracks dirty pages with dirty rings (use mode dirty-ring or page-sampling)");
                if (tracker.IsTracking)
                    throw new VmControlException("dirty tracking is in use (by a migration); measure with mode page-sampling, which does not need it");
                try
                {
                    tracker.Start();
                }
                catch (Exception e) when (e is InvalidOperationException or Tern.Os.OsException)
                {
                    throw new VmControlException($"could not turn dirty tracking on for the measurement: {e.Message}", e);
                }
                usesDirtyTracking = true;
            }
            var started = DateTimeOffset.UtcNow;
            info = new DirtyRateInfo(DirtyRateStatus.Measuring, request.Mode, started.ToUnixTimeSeconds(), request.CalcTimeSeconds,
                request.Mode == DirtyRateMode.PageSampling ? request.EffectiveSamplePages : 0);
            cancel?.Dispose();
            cancel = new CancellationTokenSource();
            var token = cancel.Token;
            running = Task.Factory.StartNew(() => Measure(machine, request, token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
    }

    private void Measure(IVirtualMachine machine, DirtyRateRequest request, CancellationToken token)
    {
        DirtyRateInfo? result = null;
        try
        {
            result = request.Mode == DirtyRateMode.PageSampling ? SamplePages(machine, request, token) : SyncTracker(machine, request, token);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            log?.Invoke($"dirty-rate measurement failed: {e.Message}");
        }
        finally
        {
            if (usesDirtyTracking) StopTracking(machine.DirtyTracker);
        }
        lock (gate) info = result ?? DirtyRateInfo.Unstarted with { Mode = request.Mode };
    }

    private DirtyRateInfo SamplePages(IVirtualMachine machine, DirtyRateRequest request, CancellationToken token)
    {
        var memory = machine.Memory;
        int count = DirtyRateEstimator.PagesToSample(request.EffectiveSamplePages, memory.PageCount);
        var sample = PageSample.Take(memory, count, random);
        Wait(request, token);
        var window = sample.Age;
        int changed = sample.CountChanged();
        var estimate = DirtyRateEstimator.Estimate(count, changed, memory.PageCount, window);
        return Info with
        {
            Status = DirtyRateStatus.Measured,
            DirtyRateMib = (long)Math.Round(estimate.MibPerSecond),
            SampledPages = count,
            ChangedPages = changed,
            DirtyPages = (long)Math.Round(estimate.DirtyPagesPerSecond * window.TotalSeconds),
            WindowMs = (long)window.TotalMilliseconds,
            StandardErrorMib = estimate.StandardErrorMibPerSecond,
        };
    }

    private DirtyRateInfo SyncTracker(IVirtualMachine machine, DirtyRateRequest request, CancellationToken token)
    {
        long started = Stopwatch.GetTimestamp();
        Wait(request, token);
        var result = machine.DirtyTracker.Sync(new DirtyBitmap(machine.Memory.PageCount));
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        StopTracking(machine.DirtyTracker);
        return Info with
        {
            Status = DirtyRateStatus.Measured,
            DirtyRateMib = Mib(result.DirtyPages, seconds),
            VcpuDirtyRatesMib = request.Mode == DirtyRateMode.DirtyRing ? result.PerVcpuPages?.Select(p => Mib(p, seconds)).ToArray() : null,
            DirtyPages = result.DirtyPages,
            WindowMs = (long)(seconds * 1000),
        };
    }

    private static long Mib(long pages, double seconds) => (long)Math.Round(pages * (double)PageSize.Bytes / (1 << 20) / seconds);

    private static void Wait(DirtyRateRequest request, CancellationToken token)
    {
        if (token.WaitHandle.WaitOne(TimeSpan.FromSeconds(request.CalcTimeSeconds))) throw new OperationCanceledException(token);
    }

    private void StopTracking(IDirtyTracker tracker)
    {
        if (!usesDirtyTracking) return;
        try
        {
            tracker.Stop();
        }
        catch (Exception e)
        {
            log?.Invoke($"could not stop dirty tracking after the dirty-rate measurement: {e.Message}");
        }
        usesDirtyTracking = false;
    }

    /// <summary>Ends a running measurement early (its status goes back to unstarted) and waits until its tracking is off.</summary>
    public void Cancel()
    {
        Task? task;
        lock (gate)
        {
            cancel?.Cancel();
            task = running;
        }
        task?.Wait(TimeSpan.FromSeconds(10));
    }

    public void Dispose()
    {
        Cancel();
        cancel?.Dispose();
    }
}
