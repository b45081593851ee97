using Tern.Guest;
using Tern.Machine;
using Tern.Memory;

namespace Tern.Bench.Macro;

/// <summary>A booted guest running a built-in workload, with its model to read the workload counters from RAM.</summary>
public sealed class LiveGuest : IDisposable
{
    private readonly WorkloadModel model;

    public LiveGuest(MachineBackendChoice backend, string workload, ulong memoryBytes, int vcpus)
    {
        var spec = WorkloadSpec.Parse(workload);
        model = new WorkloadModel(GuestLayout.Compute(spec, memoryBytes, vcpus));
        Machine = MachineBuilder.Boot(spec, memoryBytes, vcpus, backend.Host);
    }

    public IVirtualMachine Machine { get; }

    /// <summary>The sum of the vCPUs' progress counters (writes, increments or timer ticks, per workload).</summary>
    public ulong Progress()
    {
        var ram = Machine.Memory.GetSpan(GuestAddress.Zero, (int)Math.Min(Machine.Memory.Size, int.MaxValue));
        ulong sum = 0;
        foreach (ulong c in model.ReadCounters(ram)) sum += c;
        return sum;
    }

    public void Dispose() => Machine.Dispose();
}
