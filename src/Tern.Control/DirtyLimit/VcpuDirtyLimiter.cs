using System.Diagnostics;
using Tern.Machine;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Throttle;

namespace Tern.Control.DirtyLimit;

/// <summary>
/// Keeps the operator's per-vCPU dirty limits while no migration runs. A limit needs each vCPU's dirty rate, so while
/// this runs it owns the machine's dirty tracker (the dirty ring): it turns tracking on, syncs it every
/// <see cref="Period"/> on its own thread, and hands each period's per-vCPU counts to <see cref="VcpuDirtyLimits"/>,
/// which throttles only the vCPUs above their limit. The VM host starts it when the first limit is set (or when a
/// migration that had taken the tracker over ends with the VM still here) and stops it when the last limit is
/// cancelled, before a migration takes the tracker over, and when the host goes; tracking is off again once
/// <see cref="Stop"/> returns, since it slows every first write to a page.
/// </summary>
public sealed class VcpuDirtyLimiter
{
    /// <summary>How often each vCPU's rate is measured and its throttle adjusted (QEMU's dirty limit measures over 1 s too).</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly IVirtualMachine machine;
    private readonly VcpuDirtyLimits limits;
    private readonly Action<string>? log;
    private readonly TimeSpan period;
    private ManualResetEventSlim? stop;
    private Thread? thread;

    public VcpuDirtyLimiter(IVirtualMachine machine, VcpuDirtyLimits limits, Action<string>? log = null, TimeSpan? period = null)
    {
        this.machine = machine;
        this.limits = limits;
        this.log = log;
        this.period = period ?? Period;
    }

    /// <summary>True from <see cref="Start"/> until <see cref="Stop"/> (or a failure that ended the measuring).</summary>
    public bool IsRunning => thread is { IsAlive: true };

    /// <summary>Turns dirty tracking on and starts measuring; does nothing if already running. Call from one thread at a time.</summary>
    public void Start()
    {
        if (IsRunning) return;
        machine.DirtyTracker.Start();
        var signal = new ManualResetEventSlim();
        stop = signal;
        thread = new Thread(() => Run(signal)) { IsBackground = true, Name = "dirty limit" };
        thread.Start();
    }

    /// <summary>
    /// Stops measuring and returns once dirty tracking is off. The throttles stay as they were (the limits still hold).
    /// Does nothing when not started: the tracker may be a migration's by then, and is not this limiter's to stop.
    /// </summary>
    public void Stop()
    {
        if (thread is not { } running) return;
        stop!.Set();
        running.Join();
        thread = null;
        StopTracking();
    }

    private void Run(ManualResetEventSlim signal)
    {
        var tracker = machine.DirtyTracker;
        var scratch = new DirtyBitmap(machine.Memory.PageCount);
        long last = Stopwatch.GetTimestamp();
        try
        {
            while (!signal.Wait(period))
            {
                bool wasRunning = machine.State == MachineRunState.Running;
                var sync = tracker.Sync(scratch);
                scratch.ClearAll();
                long now = Stopwatch.GetTimestamp();
                var elapsed = Stopwatch.GetElapsedTime(last, now);
                last = now;
                // A paused guest dirties nothing; throttles decided from that would let it race when it runs again.
                if (!wasRunning || machine.State != MachineRunState.Running) continue;
                limits.Measured(machine, new ThrottleMeasurement(elapsed, 0, sync.DirtyPages, sync.PerVcpuPages,
                    limits.Effective(machine).ToArray(), PageSize.Bytes, 0, 0));
            }
        }
        catch (Exception e)
        {
            log?.Invoke($"the dirty limit stopped measuring: {e.Message}; the vCPUs keep their last throttle until the limits are cancelled");
        }
        finally
        {
            // Whatever ended the loop, tracking must not stay on with nothing reading it.
            StopTracking();
        }
    }

    private void StopTracking()
    {
        try
        {
            machine.DirtyTracker.Stop();
        }
        catch (Exception e)
        {
            log?.Invoke($"could not stop dirty tracking for the dirty limit: {e.Message}");
        }
    }
}
