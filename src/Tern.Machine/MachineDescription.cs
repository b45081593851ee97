namespace Tern.Machine;

/// <summary>
/// What a destination needs to know to build a machine that can take this one's state: the backend, RAM size and
/// vCPU count, and the workload the guest runs (informational for KVM guests, whose code is in RAM; required for
/// simulated guests, whose workload runs on the host).
/// </summary>
public sealed record MachineDescription(string Backend, ulong MemoryBytes, int VcpuCount, string Workload)
{
    public const string KvmBackend = "kvm";
    public const string SimBackend = "sim";
}
