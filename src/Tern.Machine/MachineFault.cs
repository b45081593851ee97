namespace Tern.Machine;

/// <summary>What stopped a guest: which vCPU, what kind of event, and a description in the operator's words.</summary>
public sealed record MachineFault(int Vcpu, MachineFaultKind Kind, string Description)
{
    public override string ToString() => $"vCPU {Vcpu}: {Description}";
}

public enum MachineFaultKind
{
    /// <summary>The guest shut down (for Tern's guests, always a triple fault).</summary>
    Shutdown,
    /// <summary>The guest reported an exception through Tern's panic port.</summary>
    GuestPanic,
    /// <summary>KVM could not continue the guest (internal error, failed entry).</summary>
    KvmError,
    /// <summary>An exit Tern does not handle.</summary>
    UnexpectedExit,
    /// <summary>The VMM itself failed (an ioctl error, a bug).</summary>
    HostError,
}
