namespace Tern.Machine.Devices;

/// <summary>
/// Routes port I/O exits to devices. Ports with no device behave like an empty ISA bus: reads return 0xFF and writes
/// are dropped, as on real hardware.
/// </summary>
public sealed class PortBus
{
    private readonly IPortDevice?[] byPort = new IPortDevice?[65536];
    private long unclaimedAccesses;

    public void Add(IPortDevice device)
    {
        for (int p = device.BasePort; p < device.BasePort + device.PortCount; p++)
        {
            if (byPort[p] is not null) throw new InvalidOperationException($"port 0x{p:x} is already taken by {byPort[p]!.GetType().Name}");
            byPort[p] = device;
        }
    }

    /// <summary>Accesses to ports no device claims: a guest bug or a probe; counted for diagnostics.</summary>
    public long UnclaimedAccesses => Interlocked.Read(ref unclaimedAccesses);

    public void Read(ushort port, Span<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            var device = byPort[(ushort)(port + i)];
            if (device is null) { Interlocked.Increment(ref unclaimedAccesses); data[i] = 0xFF; }
            else data[i] = device.Read(port + i - device.BasePort);
        }
    }

    public void Write(ushort port, ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            var device = byPort[(ushort)(port + i)];
            if (device is null) Interlocked.Increment(ref unclaimedAccesses);
            else device.Write(port + i - device.BasePort, data[i]);
        }
    }
}
