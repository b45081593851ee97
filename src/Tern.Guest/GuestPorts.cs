namespace Tern.Guest;

/// <summary>
/// The I/O ports the built-in guest uses. 0x510/0x511 (QEMU's fw_cfg) are deliberately avoided so the multiboot
/// export runs under QEMU with a debugcon on the heartbeat port.
/// </summary>
public static class GuestPorts
{
    /// <summary>Heartbeat: an 8-bit <c>out</c> of the vCPU index, about every millisecond per vCPU.</summary>
    public const ushort Heartbeat = 0x4E0;

    /// <summary>Panic: an 8-bit <c>out</c> of the exception vector after the panic record is in the control page.</summary>
    public const ushort Panic = 0x4E1;

    /// <summary>COM1 transmit holding register: the banner, one byte per <c>out</c>.</summary>
    public const ushort SerialData = 0x3F8;

    /// <summary>COM1 line status register: the banner polls bit 5 (transmit holding register empty) before each byte.</summary>
    public const ushort SerialLineStatus = 0x3FD;

    /// <summary>The LSR bit the banner waits for.</summary>
    public const byte LineStatusTransmitEmpty = 0x20;
}
