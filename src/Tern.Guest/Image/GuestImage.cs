namespace Tern.Guest;

/// <summary>
/// Everything a VMM needs to boot a guest: RAM size, blobs to copy into (zero-filled) RAM, and each vCPU's entry
/// state. Images built by <see cref="GuestImageBuilder"/> also carry their workload and layout, so the caller can
/// read counters and verify memory with <see cref="WorkloadModel"/>; images loaded from a foreign multiboot file
/// have neither.
/// </summary>
public sealed class GuestImage
{
    public ulong RamBytes { get; }
    public IReadOnlyList<GuestBlob> Blobs { get; }
    public IReadOnlyList<CpuEntryState> Vcpus { get; }
    public GuestWorkload? Workload { get; }
    public GuestLayout? Layout { get; }

    /// <summary>The 32-bit multiboot entry point in the image's code (Tern-built images), used by the multiboot export.</summary>
    public Tern.Memory.GuestAddress? MultibootEntry { get; }

    /// <summary>I/O ports the guest uses: heartbeat, panic and COM1 (data and line status).</summary>
    public IReadOnlyList<ushort> Ports { get; } =
        [GuestPorts.Heartbeat, GuestPorts.Panic, GuestPorts.SerialData, GuestPorts.SerialLineStatus];

    public GuestImage(
        ulong ramBytes,
        IReadOnlyList<GuestBlob> blobs,
        IReadOnlyList<CpuEntryState> vcpus,
        GuestWorkload? workload,
        GuestLayout? layout,
        Tern.Memory.GuestAddress? multibootEntry = null)
    {
        if (vcpus.Count == 0) throw new ArgumentException("a guest image has at least one vCPU", nameof(vcpus));
        foreach (var blob in blobs)
        {
            if (blob.Address.Value > ramBytes || (ulong)blob.Bytes.Length > ramBytes - blob.Address.Value)
                throw new GuestConfigurationException($"{blob.Region} lies outside the guest's {Tern.Memory.ByteSize.Format(ramBytes)} of RAM");
        }
        RamBytes = ramBytes;
        Blobs = blobs;
        Vcpus = vcpus;
        Workload = workload;
        Layout = layout;
        MultibootEntry = multibootEntry;
    }

    /// <summary>True if any vCPU needs the in-kernel LAPIC (idle's timer).</summary>
    public bool NeedsLapicTimer => Vcpus.Any(v => v.NeedsLapicTimer);

    /// <summary>
    /// Copies every blob into <paramref name="ram"/>, guest RAM from GPA 0 (it may be just a prefix that reaches the
    /// last blob). RAM must otherwise be zero-filled: the working set and stacks start as zeros.
    /// </summary>
    public void CopyTo(Span<byte> ram)
    {
        foreach (var blob in Blobs)
        {
            ulong end = blob.Address.Value + (ulong)blob.Bytes.Length;
            if (end > (ulong)ram.Length)
                throw new ArgumentException($"{blob.Region} does not fit in the {ram.Length}-byte RAM buffer", nameof(ram));
            blob.Bytes.Span.CopyTo(ram[(int)blob.Address.Value..]);
        }
    }
}
