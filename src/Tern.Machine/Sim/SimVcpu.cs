using System.Diagnostics;
using Tern.Guest;
using Tern.Machine.State;
using Tern.Memory;
using Tern.Memory.Dirty;

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

    public SimVcpu(int index, WorkloadModel model, GuestRam ram, SoftwareDirtyTracker tracker, HeartbeatMonitor heartbeats, int batch)
    {
        this.index = index;
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
        markDirty = page => tracker.MarkDirty(page, index);
        thread = new Thread(Run) { IsBackground = true, Name = $"tern sim vCPU {index}" };
        thread.Start();
    }

    public string StateId => $"sim-vcpu{index}";
    public ushort StateVersion => 1;

    public double Throttle
    {
        get => throttlePermille / 1000.0;
        set => throttlePermille = (int)Math.Round(Math.Clamp(value, 0, 0.99) * 1000);
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

    private ulong ReadCounterFromRam()
    {
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
