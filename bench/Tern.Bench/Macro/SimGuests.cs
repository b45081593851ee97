using Tern.Guest;
using Tern.Machine;

namespace Tern.Bench.Macro;

/// <summary>Simulated guests for the migration benchmarks: they run here, without /dev/kvm.</summary>
public static class SimGuests
{
    public static readonly MachineHostOptions Host = new() { Backend = MachineBackend.Sim };

    public static IVirtualMachine Boot(string workload, ulong memoryBytes, int vcpus) =>
        MachineBuilder.Boot(WorkloadSpec.Parse(workload), memoryBytes, vcpus, Host);
}
