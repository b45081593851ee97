namespace Tern.Machine.Devices;

/// <summary>A device on the x86 I/O port bus, byte-wide. Accesses may come from several vCPU threads at once.</summary>
public interface IPortDevice
{
    ushort BasePort { get; }
    int PortCount { get; }

    byte Read(int offset);

    void Write(int offset, byte value);
}
