using System.Diagnostics;
using Tern.Guest;
using Tern.Machine.State;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Memory.Postcopy;

namespace Tern.Machine.Sim;

/// <summary>
/// A simulated vCPU: a thread that performs the workload model's writes in batches, as the real guest would, beats
/// about once a millisecond, obeys its throttle and rate cap, and stops between batches when paused. Its counter
/// lives in guest RAM (the control page), exactly where the real guest keeps it, so state moves with RAM.
/// </summary>
internal sealed class SimVcpu : IStateComponent, IDisposable
{
    private static readonly long HeartbeatTicks = Stopwatch.Frequency / 1000;
    private static readonly long ThrottlePeriodTicks = (long)(ThrottleClock.Period.TotalSeconds * Stopwatch.Frequency);
    private static readonly long RateCarryOverTicks = Stopwatch.Frequency / 1000;

    private readonly int index;
    private readonly WorkloadModel model;
    private readonly WorkloadSpec workload;
    private readonly GuestRam ram;
    private readonly SoftwareDirtyTracker tracker;
    private readonly HeartbeatMonitor heartbeats;
    private readonly int batch;
    private readonly double writesPerSecondCap;
    private readonly ulong writeLimit;
    private readonly Thread thread;
    // Run/park handshake under one monitor: the thread parks (and says so) only after it has seen `running` false,
    // and Pause returns only once it has. Two events set and reset from both sides could lose a wake-up when a
    // Resume is followed at once by a Pause, leaving Pause waiting for a thread that never woke.
    private readonly object gate = new();
    private bool isParked;
    private volatile bool running;
    private volatile bool exiting;
    private volatile int throttlePermille;
    private ulong counter;
    private readonly TouchedPages touched;
    private readonly Action<PageIndex> markDirty;
    // While pages of RAM are still missing (post-copy): the pages of the next batch, found by a dry run into scratch.
    private readonly TouchedPages probed;
    private readonly byte[] scratch = new byte[PageSize.Bytes];
    private volatile IPageArrival? arrival;
    private readonly Action<MachineFault> onFault;

    /// <param name="onFault">The vCPU's thread failed (it never writes again); called on that thread.</param>
    public SimVcpu(int index, WorkloadModel model, GuestRam ram, SoftwareDirtyTracker tracker, HeartbeatMonitor heartbeats, int batch,
        Action<MachineFault> onFault)
    {
        this.index = index;
        this.onFault = onFault;
        this.model = model;
        this.ram = ram;
        this.tracker = tracker;
        this.heartbeats = heartbeats;
        // The same cap as the real guest's (MiB/s of distinct pages, as writes a second), in batches of at most the
        // real guest's chunk under a cap: about a millisecond of writes, so a capped guest dirties steadily rather
        // than in bursts of a whole batch. For idle the cap has no meaning.
        workload = model.Layout.Vcpus[index].Workload;
        writesPerSecondCap = GuestImageBuilder.RateWritesPerSecond(workload);
        var slice = model.Layout.Vcpus[index].Slice;
        writeLimit = workload.WriteLimit(slice.RegionAPages + slice.RegionBPages);
        this.batch = writesPerSecondCap > 0 ? (int)Math.Min((ulong)batch, GuestImageBuilder.ChunkWrites(workload)) : batch;
        // A mixed-content write fills a page (about a microsecond here): batches of the real guest's chunk keep the
        // heartbeat and a pause as prompt as with one-store writes.
        if (workload.Content == PageContent.Mixed) this.batch = Math.Min(this.batch, GuestImageBuilder.DefaultChunkWrites);
        // One page a write at most, plus the control page where the counter is stored.
        touched = new TouchedPages(this.batch + 2);
        probed = new TouchedPages(this.batch + 2);
        markDirty = page => tracker.MarkDirty(page, index);
        thread = new Thread(Main) { IsBackground = true, Name = $"tern sim vCPU {index}" };
        thread.Start();
    }

    public string StateId => $"sim-vcpu{index}";
    public ushort StateVersion => 1;

    public double Throttle
    {
        get => throttlePermille / 1000.0;
        set => throttlePermille = (int)Math.Round(Math.Clamp(value, 0, 0.99) * 1000);
    }

    /// <summary>
    /// Makes the vCPU ask <paramref name="pages"/> before touching guest RAM, for as long as pages are missing. Set
    /// while the vCPU is not running.
    /// </summary>
    public IPageArrival? PageArrival
    {
        set => arrival = value;
    }

    public void Resume()
    {
        lock (gate)
        {
            // The thread is parked (or about to be), so it does not touch the counter while it is reloaded.
            counter = ReadCounterFromRam();
            running = true;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>Stops after the current batch and waits until the thread is parked.</summary>
    public void Pause()
    {
        lock (gate)
        {
            running = false;
            Monitor.PulseAll(gate); // wakes a throttle sleep
            while (!isParked) Monitor.Wait(gate);
        }
    }

    /// <summary>Parks the thread until it is resumed or told to exit; false when it must exit.</summary>
    private bool Park()
    {
        lock (gate)
        {
            isParked = true;
            Monitor.PulseAll(gate);
            while (!running && !exiting) Monitor.Wait(gate);
            if (exiting) return false;
            isParked = false;
            return true;
        }
    }

    private void Main()
    {
        try
        {
            Run();
        }
        catch (Exception e)
        {
            // Never let an exception escape a thread: it would end the whole process, and the VM with it. The vCPU
            // faults as a KVM vCPU whose VMM failed does: it never writes again, and stays pausable until disposed.
            lock (gate)
            {
                isParked = true;
                Monitor.PulseAll(gate);
            }
            onFault(new MachineFault(index, MachineFaultKind.HostError, $"the simulated vCPU failed: {e.Message}"));
            lock (gate) while (!exiting) Monitor.Wait(gate);
        }
    }

    private void Run()
    {
        long nextBeat = Stopwatch.GetTimestamp() + HeartbeatTicks;
        long periodStart = Stopwatch.GetTimestamp();
        long rateStart = 0;
        ulong rateBase = 0;
        bool clocksStarted = false;
        while (true)
        {
            if (!running)
            {
                clocksStarted = false;
                if (!Park()) return;
                continue;
            }
            if (exiting) { Park(); return; }
            if (!clocksStarted)
            {
                // The rate and throttle clocks restart whenever the vCPU starts running, also when Resume came before
                // this thread first looked (then it never parked, and a rate clock left at 0 would cap nothing).
                clocksStarted = true;
                rateStart = Stopwatch.GetTimestamp();
                rateBase = counter;
                periodStart = rateStart;
                nextBeat = rateStart + HeartbeatTicks;
            }

            if (workload.Kind == WorkloadKind.Idle)
            {
                // Idle ticks once a millisecond and otherwise sleeps, like the real guest's hlt.
                Thread.Sleep(1);
                if (!AwaitPagesOf(counter, counter + 1)) continue;
                var writer = new SimPageWriter(ram, touched);
                model.Apply(ref writer, index, counter, counter + 1);
                touched.Drain(markDirty);
                counter++;
                heartbeats.Beat(index);
                continue;
            }
            if (counter >= writeLimit)
            {
                // fill after its pass: rests like idle's hlt, beating, but counts nothing and writes nothing.
                Thread.Sleep(1);
                heartbeats.Beat(index);
                continue;
            }

            if (!AwaitPagesOf(counter, counter + (ulong)batch)) continue;
            var pages = new SimPageWriter(ram, touched);
            ulong to = Math.Min(counter + (ulong)batch, writeLimit);
            model.Apply(ref pages, index, counter, to);
            touched.Drain(markDirty);
            counter = to;

            long now = Stopwatch.GetTimestamp();
            if (now >= nextBeat)
            {
                heartbeats.Beat(index);
                nextBeat = now + HeartbeatTicks;
            }
            if (writesPerSecondCap > 0)
            {
                // Wait (with sleeps) until the writes done fit the cap, as the guest does with rdtsc, and keep beating
                // meanwhile: a guest held back by its cap is not stalled.
                double allowedSeconds = (counter - rateBase) / writesPerSecondCap;
                long due = rateStart + (long)(allowedSeconds * Stopwatch.Frequency);
                if (due < now - RateCarryOverTicks)
                {
                    // As in the guest: at most a millisecond of unused budget carries over, so a vCPU that was held
                    // back (throttled, or short of a core) does not burst afterwards to make up for it.
                    rateStart = now - RateCarryOverTicks;
                    rateBase = counter;
                }
                while (running && Stopwatch.GetTimestamp() < due)
                {
                    Thread.Sleep(1);
                    if (Stopwatch.GetTimestamp() >= nextBeat)
                    {
                        heartbeats.Beat(index);
                        nextBeat = Stopwatch.GetTimestamp() + HeartbeatTicks;
                    }
                }
            }
            int permille = throttlePermille;
            if (permille > 0 && now - periodStart >= ThrottlePeriodTicks)
            {
                // Sleep in proportion to the time run (see ThrottleClock); a pause wakes the sleep at once.
                var sleep = ThrottleClock.SleepAfter(Stopwatch.GetElapsedTime(periodStart, now), permille);
                lock (gate) if (running && !exiting) Monitor.Wait(gate, sleep);
                periodStart = Stopwatch.GetTimestamp();
            }
            else if (permille == 0)
            {
                periodStart = now; // unthrottled time does not count towards the first throttled run
            }
        }
    }

    /// <summary>
    /// While pages of RAM are missing, makes sure every page the writes [<paramref name="from"/>, <paramref name="to"/>)
    /// touch is present before any is written: false (nothing written) when the vCPU is paused or told to exit while it
    /// waits, or when the pages will never come.
    /// </summary>
    /// <remarks>
    /// Why ask instead of touching: this is a managed thread, and a managed thread that touches a missing page blocks in
    /// the kernel where the runtime cannot suspend it for a GC; any GC in the process would then wait for it forever,
    /// and the page it needs could never be placed (see <see cref="IPageArrival"/>). Touching each page through a
    /// system call first would avoid that too, but would leave a batch half written when a pause comes while it waits.
    /// A dry run of the batch finds its pages (at the cost of computing the batch twice, only while pages are missing),
    /// all missing ones are requested at once, and the vCPU waits in a GC-safe wait, checking every few milliseconds
    /// whether it has been paused; the batch is then written whole, or not at all.
    /// </remarks>
    private bool AwaitPagesOf(ulong from, ulong to)
    {
        var pages = arrival;
        if (pages is null || pages.IsComplete) return true;
        var probe = new ProbePageWriter(scratch, probed);
        model.Apply(ref probe, index, from, to);
        try
        {
            for (int i = 0; i < probed.Count; i++)
                if (!pages.IsPresent(probed[i])) pages.ReportMissing(probed[i]);
            for (int i = 0; i < probed.Count; i++)
            {
                while (true)
                {
                    if (!running || exiting) return false;
                    var wait = pages.WaitUntilPresent(probed[i], WaitSliceMilliseconds);
                    if (wait == PageWait.Present) break;
                    if (wait == PageWait.Stopped)
                    {
                        // No page will come: never write again, and stay pausable.
                        lock (gate) while (running && !exiting) Monitor.Wait(gate);
                        return false;
                    }
                }
            }
            return true;
        }
        finally
        {
            probed.Clear();
        }
    }

    /// <summary>How often a vCPU waiting for a missing page checks whether it has been paused.</summary>
    private const int WaitSliceMilliseconds = 5;

    /// <summary>Waits (not pausable: for Resume and RestoreState) until a page is present; throws if it never will be.</summary>
    private void AwaitPage(PageIndex page)
    {
        var pages = arrival;
        if (pages is null || pages.IsComplete || pages.IsPresent(page)) return;
        pages.ReportMissing(page);
        while (true)
        {
            var wait = pages.WaitUntilPresent(page, WaitSliceMilliseconds * 20);
            if (wait == PageWait.Present) return;
            if (wait == PageWait.Stopped)
                throw new InvalidOperationException($"vCPU {index}'s control page ({page}) never arrived: the missing-page service stopped");
        }
    }

    private ulong ReadCounterFromRam()
    {
        AwaitPage(model.Layout.Vcpus[index].ControlPage.Page);
        var page = ram.GetSpan(model.Layout.Vcpus[index].ControlPage, PageSize.Bytes);
        return ControlPage.Read(page).Counter;
    }

    public void SaveState(StateWriter writer) => writer.WriteUInt64(ReadCounterFromRam());

    public void RestoreState(StateReader reader, ushort version)
    {
        if (version != 1) throw new StateFormatException(StateId, $"simulated vCPU state version {version} is not supported (this Tern reads 1)");
        ulong saved = reader.ReadUInt64();
        ulong inRam = ReadCounterFromRam();
        if (saved != inRam)
            throw new StateFormatException(StateId, $"the vCPU's counter is {saved} in its state but {inRam} in the RAM that arrived: RAM and state do not belong together");
    }

    public void Dispose()
    {
        lock (gate)
        {
            exiting = true;
            running = false;
            Monitor.PulseAll(gate);
        }
        thread.Join(TimeSpan.FromSeconds(5));
    }
}
