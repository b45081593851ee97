using Tern.Kvm;
using Tern.Machine.Devices;
using Tern.Memory;
using Tern.Guest;
using Tern.Memory.Dirty;

namespace Tern.Machine.Kvm;

/// <summary>
/// Decides what each vCPU exit means: heartbeats, device I/O, a full dirty ring, or a fault described in the
/// operator's words. Runs on vCPU threads; everything it touches is thread-safe.
/// </summary>
internal sealed class VcpuExitHandler(
    PortBus ports,
    HeartbeatMonitor heartbeats,
    IGuestMemory memory,
    Func<KvmDirtyRingTracker?> ringTracker,
    Action<MachineFault> onFault)
{
    private long unexpectedMmio;

    public Func<int, IGuestMemory, string>? DescribePanic { get; set; }

    public long UnexpectedMmioAccesses => Interlocked.Read(ref unexpectedMmio);

    /// <summary>Handles one exit. Returns false when the vCPU cannot continue (the fault has been reported).</summary>
    public bool Handle(KvmVcpu vcpu, in VcpuExit exit)
    {
        switch (exit.Reason)
        {
            case KvmExitReason.Io:
                return HandleIo(vcpu, exit);
            case KvmExitReason.Mmio:
                // Tern's platform has no MMIO devices: reads see all-ones, writes vanish, as on an empty bus.
                Interlocked.Increment(ref unexpectedMmio);
                if (!exit.IsOut) vcpu.MmioData(exit).Fill(0xFF);
                return true;
            case KvmExitReason.Hlt:
                // Only without an in-kernel irqchip; Tern always has one, so a halt here waits for nothing.
                return Fail(vcpu, MachineFaultKind.UnexpectedExit, "the guest halted with interrupts that can never arrive");
            case KvmExitReason.DirtyRingFull:
                ringTracker()?.HarvestFullRing(vcpu.Id);
                return true;
            case KvmExitReason.Shutdown:
                return Fail(vcpu, MachineFaultKind.Shutdown,
                    $"the guest shut down (a triple fault: an exception it could not handle) at {WhereAfterShutdown(vcpu)}");
            case KvmExitReason.InternalError:
                return Fail(vcpu, MachineFaultKind.KvmError,
                    $"KVM could not continue the guest: internal error {InternalErrorName(exit.Detail)} at {Where(vcpu)}" +
                    $" (data {string.Join(' ', vcpu.InternalErrorData().Select(d => $"0x{d:x}"))})");
            case KvmExitReason.FailEntry:
                return Fail(vcpu, MachineFaultKind.KvmError,
                    $"KVM could not enter the guest (hardware entry failure reason 0x{exit.Address:x}); the vCPU state is invalid");
            case KvmExitReason.SystemEvent:
                return Fail(vcpu, MachineFaultKind.Shutdown, $"the guest requested a system event ({SystemEventName(exit.Detail)})");
            default:
                return Fail(vcpu, MachineFaultKind.UnexpectedExit, $"unexpected exit from the guest: {exit} at {Where(vcpu)}");
        }
    }

    public void ReportFault(MachineFault fault) => onFault(fault);

    private bool HandleIo(KvmVcpu vcpu, in VcpuExit exit)
    {
        if (exit.Port == GuestPorts.Heartbeat)
        {
            if (exit.IsOut) heartbeats.Beat(vcpu.Id);
            else vcpu.IoData(exit).Clear();
            return true;
        }
        if (exit.Port == GuestPorts.Panic && exit.IsOut)
        {
            var details = DescribePanic?.Invoke(vcpu.Id, memory) ?? "the guest reported a panic";
            return Fail(vcpu, MachineFaultKind.GuestPanic, details);
        }
        var data = vcpu.IoData(exit);
        int size = exit.Size;
        for (int i = 0; i < exit.Count; i++)
        {
            var unit = data.Slice(i * size, size);
            if (exit.IsOut) ports.Write(exit.Port, unit);
            else ports.Read(exit.Port, unit);
        }
        return true;
    }

    private bool Fail(KvmVcpu vcpu, MachineFaultKind kind, string description)
    {
        onFault(new MachineFault(vcpu.Id, kind, description));
        return false;
    }

    /// <summary>
    /// <see cref="Where"/> after a shutdown exit. On AMD (SVM), KVM reinitialises the vCPU on a shutdown, as the
    /// hardware leaves its state undefined, so the registers then read as the reset state (cs 0xf000, rip 0xfff0)
    /// rather than where the guest was. Tern's guests never run at the reset vector: say so instead of pointing there.
    /// </summary>
    private static string WhereAfterShutdown(KvmVcpu vcpu)
    {
        try
        {
            var regs = vcpu.GetRegs();
            var sregs = vcpu.GetSregs();
            if (regs.Rip == ResetRip && sregs.Cs.Selector == ResetCs)
                return "an unknown address: KVM reset the vCPU's registers on the shutdown (it does on AMD hosts), so where the guest was cannot be read";
        }
        catch (Exception)
        {
            // Where() says that the registers are unreadable.
        }
        return Where(vcpu);
    }

    private const ulong ResetRip = 0xFFF0;
    private const ushort ResetCs = 0xF000;

    private static string Where(KvmVcpu vcpu)
    {
        try
        {
            var regs = vcpu.GetRegs();
            var sregs = vcpu.GetSregs();
            return $"rip 0x{regs.Rip:x} (cs 0x{sregs.Cs.Selector:x}, cpl {sregs.Cs.Dpl}, cr2 0x{sregs.Cr2:x}, rsp 0x{regs.Rsp:x})";
        }
        catch (Exception e)
        {
            return $"an unknown address (registers unreadable: {e.Message})";
        }
    }

    private static string InternalErrorName(uint suberror) => suberror switch
    {
        1 => "1 (instruction emulation failed)",
        2 => "2 (simultaneous exceptions)",
        3 => "3 (event delivery failed)",
        4 => "4 (unexpected exit reason)",
        _ => suberror.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string SystemEventName(uint type) => type switch
    {
        1 => "shutdown",
        2 => "reset",
        3 => "crash",
        _ => $"type {type}",
    };
}
