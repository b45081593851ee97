using System.Diagnostics;
using Tern.Kvm;
using Tern.Kvm.Structs;
using Tern.Machine.Devices;
using Tern.Machine.State;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine.Kvm;

/// <summary>
/// A virtual machine on KVM: guest RAM in one memory slot, an in-kernel irqchip, one thread per vCPU, a 16550
/// serial port, heartbeat and panic ports, dirty tracking, and state capture. Built by <see cref="Create"/>, booted by
/// <see cref="Load"/> + <see cref="Resume"/>, or filled by an incoming migration and then resumed.
/// </summary>
public sealed class KvmMachine : IVirtualMachine
{
    private readonly global::Tern.Kvm.Kvm kvm;
    private readonly KvmVm vm;
    private readonly GuestRam ram;
    private readonly VcpuThread[] vcpus;
    private readonly KvmDirtyRing[] rings;
    private readonly IDirtyTracker tracker;
    private readonly VcpuExitHandler exits;
    private readonly Serial16550 serial;
    private readonly IStateComponent[] stateComponents;
    private readonly Timer throttleClock;
    // Serializes pause, resume, save and restore. Never taken on a vCPU thread: they report faults lock-free.
    private readonly object stateGate = new();
    private int stateValue = (int)MachineRunState.Created;
    private MachineFault? fault;

    private KvmMachine(KvmMachineOptions options, global::Tern.Kvm.Kvm kvm, KvmVm vm, GuestRam ram, int ringBytes, bool manualProtect)
    {
        Options = options;
        this.kvm = kvm;
        this.vm = vm;
        this.ram = ram;
        Heartbeats = new HeartbeatMonitor(options.VcpuCount);
        Description = new MachineDescription(MachineDescription.KvmBackend, options.MemoryBytes, options.VcpuCount, options.Workload);

        var slot = new MemorySlot(0, GuestAddress.Zero, ram.Size, ram.HostAddress);
        Ports = new PortBus();
        serial = new Serial16550("serial0", options.SerialOutput);
        Ports.Add(serial);

        KvmDirtyRingTracker? ringTracker = null;
        exits = new VcpuExitHandler(Ports, Heartbeats, ram, () => ringTracker, OnFault);

        var cpuid = kvm.GetSupportedCpuid();
        vcpus = new VcpuThread[options.VcpuCount];
        rings = new KvmDirtyRing[options.DirtyTracking == DirtyTrackingKind.Ring ? options.VcpuCount : 0];
        for (int i = 0; i < vcpus.Length; i++)
        {
            var vcpu = vm.CreateVcpu(i);
            vcpu.SetCpuid(CpuidForVcpu(cpuid, i));
            if (rings.Length > 0) rings[i] = new KvmDirtyRing(vcpu, ringBytes);
            vcpus[i] = new VcpuThread(vcpu, exits);
        }

        vm.SetUserMemoryRegion(slot.Slot, 0, ram.Size, ram.HostAddress, logDirtyPages: false);
        if (options.DirtyTracking == DirtyTrackingKind.Ring)
        {
            ringTracker = new KvmDirtyRingTracker(vm, [slot], rings, ram.PageCount);
            tracker = ringTracker;
        }
        else
        {
            tracker = new KvmDirtyLogTracker(vm, [slot], manualProtect, options.DirtyLogClearWords);
        }

        int xsave = kvm.CheckExtension(KvmCapability.Xsave2);
        var msrs = KvmVcpuState.ReadableMsrs(vcpus[0], kvm.GetMsrIndexList());
        stateComponents =
        [
            new KvmVmState(vm, hasIrqchip: true, hasPit: options.Pit),
            .. vcpus.Select(v => (IStateComponent)new KvmVcpuState(v, msrs, xsave)),
            serial,
        ];
        throttleClock = new Timer(_ => { foreach (var v in vcpus) v.ThrottleTick(); }, null, VcpuThread.ThrottlePeriod, VcpuThread.ThrottlePeriod);
        WarmStatePath();
    }

    /// <summary>
    /// The first state capture and the first restore in a process compile their whole path (the ioctl wrappers, the
    /// struct readers and writers, the snapshot codec): measured 11 ms and 39 ms on kvm_pvm, against 1 ms each once
    /// compiled. Both happen inside a migration's switchover, while the guest is stopped, so they are done once here,
    /// on the machine just built, where restoring the state just saved changes nothing. The machine stays Created.
    /// </summary>
    private void WarmStatePath()
    {
        var snapshot = StateSnapshot.Decode(StateSnapshot.Capture(stateComponents).Encode());
        snapshot.Apply(stateComponents);
    }

    public KvmMachineOptions Options { get; }
    public MachineDescription Description { get; }
    public IGuestMemory Memory => ram;
    public GuestRam Ram => ram;
    public IDirtyTracker DirtyTracker => tracker;
    public HeartbeatMonitor Heartbeats { get; }
    public PortBus Ports { get; }
    public Serial16550 Serial => serial;
    public MachineFault? Fault => Volatile.Read(ref fault);
    public event Action<MachineFault>? Faulted;

    /// <summary>Guest TSC frequency, for guests that time their heartbeats with rdtsc.</summary>
    public int TscKhz => vcpus[0].Execute(() => vcpus[0].Vcpu.GetTscKhz());

    public MachineRunState State => (MachineRunState)Volatile.Read(ref stateValue);

    private MachineRunState state => State;

    /// <summary>Opens KVM, checks what Tern needs, and builds the machine (vCPUs created, guest not started).</summary>
    public static KvmMachine Create(KvmMachineOptions options)
    {
        var kvm = global::Tern.Kvm.Kvm.Open();
        KvmVm? vm = null;
        GuestRam? ram = null;
        try
        {
            kvm.RequireCapability(KvmCapability.Irqchip, "the in-kernel interrupt controller");
            kvm.RequireCapability(KvmCapability.UserMemory, "guest RAM in user memory");
            kvm.RequireCapability(KvmCapability.ImmediateExit, "pausing vCPUs promptly");
            kvm.RequireCapability(KvmCapability.VcpuEvents, "saving vCPU state");
            kvm.RequireCapability(KvmCapability.Xsave, "saving FPU/SSE/AVX state");
            kvm.RequireCapability(KvmCapability.Xcrs, "saving XCR0");
            int maxVcpus = Math.Max(kvm.CheckExtension(KvmCapability.MaxVcpus), kvm.CheckExtension(KvmCapability.NrVcpus));
            if (options.VcpuCount > maxVcpus)
                throw new KvmUnavailableException($"this host's KVM supports at most {maxVcpus} vCPUs per VM; {options.VcpuCount} were asked for");

            vm = kvm.CreateVm();
            bool manualProtect = false;
            int ringBytes = 0;
            if (options.DirtyTracking == DirtyTrackingKind.Ring)
            {
                int max = vm.CheckExtension(KvmCapability.DirtyLogRing);
                if (max <= 0)
                    throw new KvmUnavailableException("this host's KVM has no dirty ring (KVM_CAP_DIRTY_LOG_RING); use --dirty-tracking log");
                ringBytes = (int)Math.Min((uint)options.DirtyRingBytes, (uint)max);
                ringBytes = 1 << (31 - int.LeadingZeroCount(ringBytes)); // a power of two
                vm.EnableCap(KvmCapability.DirtyLogRing, (ulong)ringBytes); // before any vCPU exists
            }
            else if (vm.CheckExtension(KvmCapability.ManualDirtyLogProtect2) is int flags && (flags & 3) == 3)
            {
                // MANUAL_PROTECT_ENABLE | INITIALLY_SET, before any memory slot exists.
                vm.EnableCap(KvmCapability.ManualDirtyLogProtect2, 3);
                manualProtect = true;
            }
            vm.CreateIrqchip();
            if (options.Pit) vm.CreatePit2();
            // Intel without unrestricted guest needs a TSS region for real mode, placed where RAM is not.
            if (options.MemoryBytes <= 0xFFFB_D000UL) vm.SetTssAddress(0xFFFB_D000);

            ram = GuestRam.Create(options.MemoryBytes, options.HugePages);
            return new KvmMachine(options, kvm, vm, ram, ringBytes, manualProtect);
        }
        catch
        {
            ram?.Dispose();
            vm?.Dispose();
            kvm.Dispose();
            throw;
        }
    }

    /// <summary>Places a boot image in RAM and sets each vCPU's entry registers. The machine must not have run yet.</summary>
    public void Load(BootImage image)
    {
        lock (stateGate)
        {
            if (state != MachineRunState.Created) throw new InvalidOperationException($"a guest can only be loaded before it runs (the machine is {state})");
        }
        if (image.Vcpus.Count != vcpus.Length)
            throw new ArgumentException($"the boot image has entry state for {image.Vcpus.Count} vCPUs; the machine has {vcpus.Length}", nameof(image));
        foreach (var blob in image.Blobs)
        {
            if (blob.Address.Value > ram.Size || (ulong)blob.Bytes.Length > ram.Size - blob.Address.Value)
                throw new ArgumentException($"boot image blob at {blob.Address} ({blob.Bytes.Length} bytes) does not fit in {ByteSize.Format(ram.Size)} of RAM", nameof(image));
            blob.Bytes.CopyTo(ram.GetSpan(blob.Address, blob.Bytes.Length));
        }
        exits.DescribePanic = image.DescribePanic;
        for (int i = 0; i < vcpus.Length; i++)
        {
            var entry = image.Vcpus[i];
            var thread = vcpus[i];
            thread.Execute<object?>(() =>
            {
                var v = thread.Vcpu;
                var sregs = v.GetSregs();
                var wanted = entry.Sregs;
                // Keep KVM's APIC base and interrupt bitmap; everything else comes from the image.
                wanted.ApicBase = sregs.ApicBase;
                v.SetSregs(wanted);
                v.SetRegs(entry.Regs);
                // With an in-kernel irqchip, application processors wait for INIT/SIPI; Tern starts them directly.
                v.SetMpState(new KvmMpState { MpState = KvmMpState.Runnable });
                return null;
            });
        }
    }

    public void Resume()
    {
        lock (stateGate)
        {
            ThrowIfFaulted();
            if (state == MachineRunState.Running) return;
            Heartbeats.Mark();
            var before = state;
            Task.WaitAll(vcpus.Select(v => v.Post(VcpuRequestKind.Run)).ToArray());
            // A vCPU may already have faulted (on its own thread): only move on from the state we left.
            TransitionState(before, MachineRunState.Running);
        }
    }

    public TimeSpan Pause()
    {
        lock (stateGate)
        {
            var started = Stopwatch.GetTimestamp();
            if (state is MachineRunState.Running or MachineRunState.Faulted)
            {
                Task.WaitAll(vcpus.Select(v => v.Post(VcpuRequestKind.Pause)).ToArray());
                TransitionState(MachineRunState.Running, MachineRunState.Paused);
            }
            return Stopwatch.GetElapsedTime(started);
        }
    }

    public byte[] SaveState()
    {
        lock (stateGate)
        {
            if (state == MachineRunState.Running) throw new InvalidOperationException("pause the machine before saving its state");
            return StateSnapshot.Capture(stateComponents).Encode();
        }
    }

    public void RestoreState(ReadOnlySpan<byte> encoded)
    {
        var snapshot = StateSnapshot.Decode(encoded);
        lock (stateGate)
        {
            if (state == MachineRunState.Running) throw new InvalidOperationException("pause the machine before restoring state into it");
            snapshot.Apply(stateComponents);
            TransitionState(MachineRunState.Created, MachineRunState.Paused);
        }
    }

    public void SetThrottle(int vcpu, double fraction)
    {
        if (double.IsNaN(fraction) || fraction < 0 || fraction > 0.99)
            throw new ArgumentOutOfRangeException(nameof(fraction), $"throttle must be between 0 and 0.99, got {fraction}");
        vcpus[vcpu].Throttle = fraction;
    }

    public double GetThrottle(int vcpu) => vcpus[vcpu].Throttle;

    /// <summary>MMIO accesses by the guest (Tern's platform has no MMIO devices, so these point at a guest bug).</summary>
    public long UnexpectedMmioAccesses => exits.UnexpectedMmioAccesses;

    private void OnFault(MachineFault f)
    {
        // On a vCPU thread, possibly while another thread holds stateGate waiting for this vCPU: no locks here.
        if (Interlocked.CompareExchange(ref fault, f, null) is null)
        {
            Volatile.Write(ref stateValue, (int)MachineRunState.Faulted);
            Faulted?.Invoke(f);
        }
    }

    private void TransitionState(MachineRunState from, MachineRunState to)
    {
        Interlocked.CompareExchange(ref stateValue, (int)to, (int)from);
    }

    private void ThrowIfFaulted()
    {
        if (state == MachineRunState.Faulted) throw new InvalidOperationException($"the guest has faulted: {fault}");
        if (state == MachineRunState.Destroyed) throw new ObjectDisposedException(nameof(KvmMachine));
    }

    /// <summary>
    /// KVM's supported CPUID with this vCPU's APIC ID filled in (leaf 1 EBX[31:24], the x2APIC ID in leaves 0xB and
    /// 0x1F, and AMD's extended APIC ID in 0x8000001E).
    /// </summary>
    private static KvmCpuidEntry2[] CpuidForVcpu(KvmCpuidEntry2[] supported, int id)
    {
        var entries = (KvmCpuidEntry2[])supported.Clone();
        for (int i = 0; i < entries.Length; i++)
        {
            switch (entries[i].Function)
            {
                case 1: entries[i].Ebx = (entries[i].Ebx & 0x00FF_FFFF) | ((uint)id << 24); break;
                case 0xB or 0x1F: entries[i].Edx = (uint)id; break;
                case 0x8000_001E: entries[i].Eax = (uint)id; break;
            }
        }
        return entries;
    }

    public void Dispose()
    {
        lock (stateGate)
        {
            if (state == MachineRunState.Destroyed) return;
            Volatile.Write(ref stateValue, (int)MachineRunState.Destroyed);
        }
        // Timer.Dispose() does not wait for a tick already running, which would kick vCPUs as they are disposed (their
        // run pages unmapped, their threads gone): wait for it, so nothing touches a vCPU after this.
        using (var ticked = new ManualResetEvent(false))
        {
            if (throttleClock.Dispose(ticked)) ticked.WaitOne();
        }
        foreach (var v in vcpus) v.Dispose();
        foreach (var r in rings) r.Dispose();
        tracker.Dispose();
        vm.Dispose();
        ram.Dispose();
        kvm.Dispose();
    }
}
