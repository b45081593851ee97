namespace Tern.Machine;

/// <summary>The I/O ports of Tern's platform that are not devices but signals from the guest to the VMM.</summary>
public static class GuestPorts
{
    /// <summary>A write here is a heartbeat from the writing vCPU (about one per millisecond).</summary>
    public const ushort Heartbeat = 0x510;

    /// <summary>A write here reports a guest exception; the details are in the vCPU's control page.</summary>
    public const ushort Panic = 0x511;
}
