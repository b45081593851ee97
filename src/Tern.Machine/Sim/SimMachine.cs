using Tern.Guest;
using Tern.Machine.State;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Memory.Postcopy;

namespace Tern.Machine.Sim;

/// <summary>
/// A guest simulated in the process: RAM in a memfd exactly as a KVM guest has it (the same boot image, page tables
/// and control pages), vCPU threads that perform the workload model's writes, and software dirty tracking. It stands
/// behind the same <see cref="IVirtualMachine"/> interface, so the migration engine can be tested and demonstrated
/// where /dev/kvm is missing, and tests can drive exact dirty patterns.
/// </summary>
public sealed class SimMachine : IVirtualMachine
{
    private readonly GuestRam ram;
    private readonly SoftwareDirtyTracker tracker;
    private readonly SimVcpu[] vcpus;
    private readonly object gate = new();
    private MachineRunState state = MachineRunState.Created;

    private SimMachine(SimMachineOptions options, GuestRam ram, WorkloadModel model, bool loadImage)
    {
        Options = options;
        this.ram = ram;
        Model = model;
        Heartbeats = new HeartbeatMonitor(options.VcpuCount);
        tracker = new SoftwareDirtyTracker(ram.PageCount, options.VcpuCount);
        Description = new MachineDescription(MachineDescription.SimBackend, options.MemoryBytes, options.VcpuCount, options.Workload.ToString());
        if (loadImage)
        {
            var image = GuestImageBuilder.Build(options.Workload, options.MemoryBytes, new GuestBuildOptions(options.VcpuCount, tscKhz: 1_000_000));
            foreach (var blob in image.Blobs) blob.Bytes.Span.CopyTo(ram.GetSpan(blob.Address, blob.Bytes.Length));
        }
        vcpus = Enumerable.Range(0, options.VcpuCount)
            .Select(i => new SimVcpu(i, model, ram, tracker, Heartbeats, options.BatchWrites, OnFault)).ToArray();
    }

    /// <summary>A new simulated guest, booted (its image in RAM) and ready to <see cref="Resume"/>.</summary>
    public static SimMachine Create(SimMachineOptions options) => Build(options, loadImage: true);

    /// <summary>An empty simulated machine that an incoming migration fills (RAM and counters arrive from the source).</summary>
    public static SimMachine CreateIncoming(SimMachineOptions options) => Build(options, loadImage: false);

    private static SimMachine Build(SimMachineOptions options, bool loadImage)
    {
        var layout = GuestLayout.Compute(options.Workload, options.MemoryBytes, options.VcpuCount);
        var ram = GuestRam.Create(options.MemoryBytes, options.HugePages);
        try
        {
            return new SimMachine(options, ram, new WorkloadModel(layout), loadImage);
        }
        catch
        {
            ram.Dispose();
            throw;
        }
    }

    public SimMachineOptions Options { get; }
    public WorkloadModel Model { get; }
    public MachineDescription Description { get; }
    public IGuestMemory Memory => ram;
    public GuestRam Ram => ram;
    public IDirtyTracker DirtyTracker => tracker;
    public HeartbeatMonitor Heartbeats { get; }
    public MachineFault? Fault => Volatile.Read(ref fault);
    private MachineFault? fault;
    public MachineRunState State { get { lock (gate) return state; } }

    /// <summary>
    /// A simulated guest's code cannot fault, but a vCPU thread can fail (a page source that throws, a bug): the
    /// machine then faults as a KVM machine whose VMM failed does, instead of the exception ending the process.
    /// </summary>
    public event Action<MachineFault>? Faulted;

    /// <summary>On the failed vCPU's thread, which has parked first (a Pause holding the gate waits for that).</summary>
    private void OnFault(MachineFault f)
    {
        if (Interlocked.CompareExchange(ref fault, f, null) is not null) return;
        lock (gate)
        {
            if (state == MachineRunState.Destroyed) return;
            state = MachineRunState.Faulted;
        }
        Faulted?.Invoke(f);
    }

    public void Resume()
    {
        lock (gate)
        {
            if (state == MachineRunState.Destroyed) throw new ObjectDisposedException(nameof(SimMachine));
            if (state == MachineRunState.Faulted) throw new InvalidOperationException($"the guest has faulted: {fault}");
            if (state == MachineRunState.Running) return;
            Heartbeats.Mark();
            foreach (var v in vcpus) v.Resume();
            state = MachineRunState.Running;
        }
    }

    public TimeSpan Pause()
    {
        lock (gate)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            // A faulted machine's other vCPUs may still run: pausing stops them (its state stays Faulted).
            if (state is MachineRunState.Running or MachineRunState.Faulted)
            {
                foreach (var v in vcpus) v.Pause();
                if (state == MachineRunState.Running) state = MachineRunState.Paused;
            }
            return System.Diagnostics.Stopwatch.GetElapsedTime(started);
        }
    }

    public byte[] SaveState()
    {
        lock (gate)
        {
            if (state == MachineRunState.Running) throw new InvalidOperationException("pause the machine before saving its state");
            return StateSnapshot.Capture(vcpus).Encode();
        }
    }

    public void RestoreState(ReadOnlySpan<byte> encoded)
    {
        var snapshot = StateSnapshot.Decode(encoded);
        lock (gate)
        {
            if (state == MachineRunState.Running) throw new InvalidOperationException("pause the machine before restoring state into it");
            snapshot.Apply(vcpus);
            if (state == MachineRunState.Created) state = MachineRunState.Paused;
        }
    }

    /// <summary>
    /// Lets the guest run while pages of its RAM are still missing: every vCPU asks <paramref name="arrival"/> before it
    /// touches a page and waits for a missing one (its threads are managed, so they must never fault on a missing page;
    /// see <see cref="IPageArrival"/>). Set before <see cref="RestoreState"/>, which reads the vCPUs' counters from RAM.
    /// </summary>
    public void ServeMissingPagesFrom(IPageArrival arrival)
    {
        lock (gate)
        {
            if (state == MachineRunState.Running) throw new InvalidOperationException("pause the machine before changing where its missing pages come from");
            foreach (var v in vcpus) v.PageArrival = arrival;
        }
    }

    public void SetThrottle(int vcpu, double fraction)
    {
        if (double.IsNaN(fraction) || fraction < 0 || fraction > 0.99)
            throw new ArgumentOutOfRangeException(nameof(fraction), $"throttle must be between 0 and 0.99, got {fraction}");
        vcpus[vcpu].Throttle = fraction;
    }

    public double GetThrottle(int vcpu) => vcpus[vcpu].Throttle;

    /// <summary>The workload counters, read from the control pages in guest RAM.</summary>
    public ulong[] ReadCounters() => Model.ReadCounters(ram.GetSpan(GuestAddress.Zero, (int)Math.Min(ram.Size, int.MaxValue)));

    public void Dispose()
    {
        lock (gate)
        {
            if (state == MachineRunState.Destroyed) return;
            state = MachineRunState.Destroyed;
        }
        foreach (var v in vcpus) v.Dispose();
        tracker.Dispose();
        ram.Dispose();
    }
}
