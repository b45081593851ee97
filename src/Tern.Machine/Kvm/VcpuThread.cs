using System.Collections.Concurrent;
using System.Diagnostics;
using Tern.Kvm;
using Tern.Os;

namespace Tern.Machine.Kvm;

/// <summary>
/// The thread that owns one KVM vCPU. Other threads talk to it only through requests (<see cref="Post"/>): run,
/// pause, execute work while paused, exit. A request made while the vCPU is inside <c>KVM_RUN</c> kicks it out:
/// <c>immediate_exit</c> is set in the shared run page and the thread gets a signal, so <c>KVM_RUN</c> returns EINTR.
/// A request that makes no sense in the current state (work while running, run after a fault) is refused.
/// </summary>
internal sealed class VcpuThread : IDisposable
{
    /// <summary>Length of one throttle period: a throttled vCPU sleeps a fraction of each.</summary>
    public static readonly TimeSpan ThrottlePeriod = ThrottleClock.Period;

    private readonly KvmVcpu vcpu;
    private readonly VcpuExitHandler exits;
    private readonly ConcurrentQueue<VcpuRequest> requests = new();
    // Set when a request is queued; reset by the vCPU thread just before it drains the queue, so no wake-up is lost.
    // Throttle sleeps wait on it too, so a pause is never delayed by a throttle.
    private readonly ManualResetEventSlim requestPending = new(false);
    private readonly ManualResetEventSlim started = new();
    private readonly Thread thread;
    private NativeThread native;
    private volatile VcpuThreadState state = VcpuThreadState.Paused;
    private volatile int throttlePermille;
    private int throttleSleepDue;
    // When the vCPU last started running after a pause or a throttle sleep (Stopwatch ticks; 0: not running). Only
    // the vCPU's own thread touches it.
    private long runningSince;

    public VcpuThread(KvmVcpu vcpu, VcpuExitHandler exits)
    {
        this.vcpu = vcpu;
        this.exits = exits;
        KickSignal.EnsureInstalled();
        thread = new Thread(Main) { IsBackground = true, Name = $"tern vCPU {vcpu.Id}" };
        thread.Start();
        started.Wait();
    }

    public int Id => vcpu.Id;
    public KvmVcpu Vcpu => vcpu;
    public VcpuThreadState State => state;

    public double Throttle
    {
        get => throttlePermille / 1000.0;
        set => throttlePermille = (int)Math.Round(Math.Clamp(value, 0, 0.99) * 1000);
    }

    /// <summary>Queues a request and kicks the vCPU out of the guest so it sees it at once.</summary>
    public Task<object?> Post(VcpuRequestKind kind, Func<object?>? work = null)
    {
        var request = new VcpuRequest(kind, work);
        if (state == VcpuThreadState.Exited)
        {
            request.Completion.SetException(new InvalidOperationException($"vCPU {Id} has exited"));
            return request.Completion.Task;
        }
        requests.Enqueue(request);
        requestPending.Set();
        Kick();
        return request.Completion.Task;
    }

    /// <summary>Runs <paramref name="work"/> on this vCPU's thread (the machine must be paused) and returns its result.</summary>
    public T Execute<T>(Func<T> work) => (T)Post(VcpuRequestKind.Execute, () => work()).GetAwaiter().GetResult()!;

    /// <summary>Called by the throttle clock once per period: the vCPU will sleep its share of the period.</summary>
    public void ThrottleTick()
    {
        if (throttlePermille == 0 || state != VcpuThreadState.Running) return;
        Volatile.Write(ref throttleSleepDue, 1);
        Kick();
    }

    private void Kick()
    {
        vcpu.RequestImmediateExit(true);
        native.Signal(KickSignal.Number);
    }

    private void Main()
    {
        native = NativeThread.Current();
        started.Set();
        try
        {
            Loop();
        }
        catch (Exception e)
        {
            // Never let an exception escape a thread: it would take the whole process (and the VM) down.
            state = VcpuThreadState.Faulted;
            exits.ReportFault(new MachineFault(Id, MachineFaultKind.HostError, $"the VMM failed: {e.Message}"));
            FailPending(e);
            WaitForExit();
        }
    }

    private void Loop()
    {
        while (true)
        {
            requestPending.Reset();
            vcpu.RequestImmediateExit(false);
            while (requests.TryDequeue(out var request))
            {
                if (!Handle(request)) return;
            }
            if (state != VcpuThreadState.Running)
            {
                runningSince = 0;
                requestPending.Wait();
                continue;
            }
            // Unthrottled time does not count towards the first throttled run.
            if (runningSince == 0 || throttlePermille == 0) runningSince = Stopwatch.GetTimestamp();
            if (Interlocked.Exchange(ref throttleSleepDue, 0) == 1)
            {
                // Sleep in proportion to the time actually run (see ThrottleClock), once a whole period has run; a
                // request (a pause) ends the sleep at once.
                var ran = Stopwatch.GetElapsedTime(runningSince);
                int permille = throttlePermille;
                if (permille > 0 && ran >= ThrottlePeriod)
                {
                    requestPending.Wait(ThrottleClock.SleepAfter(ran, permille));
                    runningSince = 0;
                }
                continue;
            }
            var exit = vcpu.Run();
            if (exit.Interrupted) continue;
            if (!exits.Handle(vcpu, exit))
            {
                state = VcpuThreadState.Faulted;
            }
        }
    }

    private bool Handle(VcpuRequest request)
    {
        try
        {
            switch (request.Kind)
            {
                case VcpuRequestKind.Run:
                    if (state == VcpuThreadState.Faulted) throw new InvalidOperationException($"vCPU {Id} has faulted and cannot run");
                    state = VcpuThreadState.Running;
                    request.Completion.SetResult(null);
                    return true;
                case VcpuRequestKind.Pause:
                    if (state == VcpuThreadState.Running)
                    {
                        // Re-enter once with immediate_exit set: KVM completes a pending port or MMIO access and
                        // returns at once, so the saved state is never in the middle of an instruction.
                        vcpu.RequestImmediateExit(true);
                        var exit = vcpu.Run();
                        if (!exit.Interrupted && !exits.Handle(vcpu, exit)) state = VcpuThreadState.Faulted;
                        if (state == VcpuThreadState.Running) state = VcpuThreadState.Paused;
                    }
                    request.Completion.SetResult(null);
                    return true;
                case VcpuRequestKind.Execute:
                    if (state == VcpuThreadState.Running)
                        throw new InvalidOperationException($"vCPU {Id} is running: pause the machine first");
                    request.Completion.SetResult(request.Work!());
                    return true;
                case VcpuRequestKind.Exit:
                    state = VcpuThreadState.Exited;
                    request.Completion.SetResult(null);
                    FailPending(new ObjectDisposedException($"vCPU {Id}"));
                    return false;
                default:
                    throw new InvalidOperationException($"unknown vCPU request {request.Kind}");
            }
        }
        catch (Exception e)
        {
            request.Completion.TrySetException(e);
            return true;
        }
    }

    private void FailPending(Exception e)
    {
        while (requests.TryDequeue(out var r)) r.Completion.TrySetException(e);
    }

    private void WaitForExit()
    {
        while (true)
        {
            requestPending.Wait();
            requestPending.Reset();
            while (requests.TryDequeue(out var r))
            {
                if (r.Kind == VcpuRequestKind.Exit) { state = VcpuThreadState.Exited; r.Completion.TrySetResult(null); return; }
                if (r.Kind == VcpuRequestKind.Pause) { r.Completion.TrySetResult(null); continue; }
                r.Completion.TrySetException(new InvalidOperationException($"vCPU {Id} has faulted"));
            }
        }
    }

    public void Dispose()
    {
        if (state != VcpuThreadState.Exited)
        {
            var done = Post(VcpuRequestKind.Exit);
            if (!done.Wait(TimeSpan.FromSeconds(5)) || !thread.Join(TimeSpan.FromSeconds(5)))
                throw new TimeoutException($"vCPU {Id} did not exit within 5 s");
        }
        vcpu.Dispose();
        requestPending.Dispose();
        started.Dispose();
    }
}

internal enum VcpuThreadState
{
    Paused,
    Running,
    Faulted,
    Exited,
}
