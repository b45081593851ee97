namespace Tern.Guest;

/// <summary>
/// How to build a guest image beyond the workload itself. Immutable and validated on construction.
/// </summary>
public sealed record GuestBuildOptions
{
    /// <summary>Most vCPUs a guest can have: the TSS area and the heartbeat byte (vCPU index in al) are sized for it.</summary>
    public const int MaxVcpus = 64;

    /// <summary>
    /// The x2APIC timer's input clock under KVM: KVM's emulated LAPIC counts at a fixed 1 GHz
    /// (APIC_BUS_CYCLE_NS = 1), whatever the host. Used only by the idle workload.
    /// </summary>
    public const ulong KvmApicTimerHz = 1_000_000_000;

    /// <summary>Number of vCPUs; each runs the workload on its own slice of the working set.</summary>
    public int VcpuCount { get; }

    /// <summary>Guest TSC frequency in kHz, written into the parameter block; the guest times heartbeats and the rate cap with it.</summary>
    public ulong TscKhz { get; }

    /// <summary>Input clock of the LAPIC timer in Hz (idle sets its ~1 kHz periodic timer from it).</summary>
    public ulong ApicTimerHz { get; }

    public GuestBuildOptions(int vcpuCount, ulong tscKhz, ulong apicTimerHz = KvmApicTimerHz)
    {
        if (vcpuCount < 1 || vcpuCount > MaxVcpus)
            throw new GuestConfigurationException($"{vcpuCount} vCPUs: a Tern guest has between 1 and {MaxVcpus} vCPUs");
        // 100 MHz .. 100 GHz: anything outside is a unit mistake (Hz or MHz passed as kHz).
        if (tscKhz < 100_000 || tscKhz > 100_000_000)
            throw new GuestConfigurationException($"TSC frequency {tscKhz} kHz is not plausible; give it in kHz (a 2.4 GHz TSC is 2400000)");
        if (apicTimerHz < 1_000_000 || apicTimerHz > 100_000_000_000)
            throw new GuestConfigurationException($"APIC timer clock {apicTimerHz} Hz is not plausible (KVM's is 1000000000)");
        VcpuCount = vcpuCount;
        TscKhz = tscKhz;
        ApicTimerHz = apicTimerHz;
    }
}
