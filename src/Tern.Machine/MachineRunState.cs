namespace Tern.Machine;

/// <summary>Life cycle of a machine.</summary>
public enum MachineRunState
{
    /// <summary>Built, guest not started.</summary>
    Created,
    Running,
    Paused,
    /// <summary>A vCPU hit a fault; see <see cref="IVirtualMachine.Fault"/>.</summary>
    Faulted,
    /// <summary>Disposed.</summary>
    Destroyed,
}
