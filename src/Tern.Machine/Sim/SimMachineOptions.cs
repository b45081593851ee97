using Tern.Guest;
using Tern.Memory;

namespace Tern.Machine.Sim;

/// <summary>How to build a simulated machine: RAM, vCPUs and the workload its vCPU threads run.</summary>
public sealed record SimMachineOptions
{
    public SimMachineOptions(ulong memoryBytes, int vcpuCount, GuestWorkload workload)
    {
        if (memoryBytes < (2UL << 20) || memoryBytes % (2UL << 20) != 0)
            throw new ArgumentException($"memory must be a multiple of 2 MiB and at least 2 MiB, got {ByteSize.Format(memoryBytes)}", nameof(memoryBytes));
        if (vcpuCount is < 1 or > GuestBuildOptions.MaxVcpus)
            throw new ArgumentException($"vCPU count must be between 1 and {GuestBuildOptions.MaxVcpus}, got {vcpuCount}", nameof(vcpuCount));
        MemoryBytes = memoryBytes;
        VcpuCount = vcpuCount;
        Workload = workload;
    }

    public ulong MemoryBytes { get; }
    public int VcpuCount { get; }
    public GuestWorkload Workload { get; }

    /// <summary>Back RAM with 2 MiB huge pages, as a KVM guest would (they must be reserved on the host).</summary>
    public bool HugePages { get; init; }

    /// <summary>Writes a vCPU performs between checks for pause, throttle and heartbeat.</summary>
    public int BatchWrites { get; init; } = 4096;
}
