using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine;

/// <summary>
/// A running guest as the migration engine sees it: its RAM, dirty tracking, pause and resume, state capture and
/// restore, heartbeats and per-vCPU throttling. Implemented by the KVM machine and by the simulated machine.
/// </summary>
public interface IVirtualMachine : IDisposable
{
    MachineDescription Description { get; }

    IGuestMemory Memory { get; }

    IDirtyTracker DirtyTracker { get; }

    HeartbeatMonitor Heartbeats { get; }

    MachineRunState State { get; }

    /// <summary>Set once a vCPU faults; the machine stays in <see cref="MachineRunState.Faulted"/>.</summary>
    MachineFault? Fault { get; }

    /// <summary>Raised (on a vCPU thread) when the guest faults.</summary>
    event Action<MachineFault>? Faulted;

    /// <summary>Starts (or resumes) every vCPU.</summary>
    void Resume();

    /// <summary>Stops every vCPU and returns once none is executing guest code. Returns how long it took.</summary>
    TimeSpan Pause();

    /// <summary>Saves vCPU, VM and device state (the machine must be paused). RAM is not included.</summary>
    byte[] SaveState();

    /// <summary>Restores state saved by a machine with the same description (the machine must be paused or created).</summary>
    void RestoreState(ReadOnlySpan<byte> state);

    /// <summary>
    /// Throttles a vCPU: it sleeps <paramref name="fraction"/> of every short period (0 = full speed, at most 0.99).
    /// </summary>
    void SetThrottle(int vcpu, double fraction);

    double GetThrottle(int vcpu);
}
