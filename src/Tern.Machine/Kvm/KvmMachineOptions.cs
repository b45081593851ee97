using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine.Kvm;

/// <summary>How to build a KVM machine. Validated on construction; the defaults suit Tern's built-in guests.</summary>
public sealed record KvmMachineOptions
{
    public const int MaxVcpus = 64;

    public KvmMachineOptions(ulong memoryBytes, int vcpuCount)
    {
        if (memoryBytes < (2UL << 20) || memoryBytes % (2UL << 20) != 0)
            throw new ArgumentException($"memory must be a multiple of 2 MiB and at least 2 MiB, got {ByteSize.Format(memoryBytes)}", nameof(memoryBytes));
        if (vcpuCount is < 1 or > MaxVcpus)
            throw new ArgumentException($"vCPU count must be between 1 and {MaxVcpus}, got {vcpuCount}", nameof(vcpuCount));
        MemoryBytes = memoryBytes;
        VcpuCount = vcpuCount;
    }

    public ulong MemoryBytes { get; }
    public int VcpuCount { get; }

    /// <summary>Back RAM with 2 MiB huge pages (they must be reserved on the host).</summary>
    public bool HugePages { get; init; }

    /// <summary>Dirty-page tracking backend.</summary>
    public DirtyTrackingKind DirtyTracking { get; init; } = DirtyTrackingKind.Log;

    /// <summary>Dirty ring size per vCPU in bytes (16 bytes an entry); clamped to what KVM allows.</summary>
    public int DirtyRingBytes { get; init; } = 1 << 20;

    /// <summary>
    /// With the dirty log, the largest range one <c>KVM_CLEAR_DIRTY_LOG</c> re-protects, in words of 64 pages
    /// (default 1 GiB). Smaller chunks bound the time each call holds KVM's MMU lock at the cost of more calls.
    /// </summary>
    public int DirtyLogClearWords
    {
        get => dirtyLogClearWords;
        init => dirtyLogClearWords = value >= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(DirtyLogClearWords), $"the CLEAR chunk must be at least one word (64 pages), got {value}");
    }

    private readonly int dirtyLogClearWords = KvmDirtyLogTracker.DefaultMaxClearWords;

    /// <summary>Create the in-kernel i8254 PIT (Tern's guests do not need it).</summary>
    public bool Pit { get; init; }

    /// <summary>Where the serial port's output goes; null discards it.</summary>
    public Stream? SerialOutput { get; init; }

    /// <summary>The workload name, carried in the machine description for reports and for the destination.</summary>
    public string Workload { get; init; } = "";
}

/// <summary>KVM's two dirty-page tracking mechanisms.</summary>
public enum DirtyTrackingKind
{
    /// <summary>Per-slot bitmap (<c>KVM_GET_DIRTY_LOG</c>, with manual protect where available).</summary>
    Log,
    /// <summary>Per-vCPU rings (<c>KVM_CAP_DIRTY_LOG_RING</c>): also gives per-vCPU dirty counts.</summary>
    Ring,
}
