namespace Tern.Machine.State;

/// <summary>
/// A part of a machine whose state moves with it: a vCPU, the VM clock and irqchip, a device. Each saves into and
/// restores from its own section of a <see cref="StateSnapshot"/>; the section carries the component's format version,
/// so a component can read the versions it knows and refuse the rest with a clear error.
/// </summary>
public interface IStateComponent
{
    /// <summary>Stable, unique name of the section, e.g. "vcpu0", "kvm-clock", "serial0".</summary>
    string StateId { get; }

    /// <summary>Version of the format <see cref="SaveState"/> writes.</summary>
    ushort StateVersion { get; }

    void SaveState(StateWriter writer);

    /// <summary>Restores from a section written by format <paramref name="version"/>.</summary>
    void RestoreState(StateReader reader, ushort version);
}
