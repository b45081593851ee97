using Tern.Guest;
using Tern.Machine.Kvm;
using Tern.Machine.Sim;

namespace Tern.Machine;

/// <summary>Which machine implementation runs a guest.</summary>
public enum MachineBackend
{
    /// <summary>KVM when /dev/kvm exists, the simulation otherwise.</summary>
    Auto,
    Kvm,
    Sim,
}

/// <summary>Host-side choices for building a machine that do not travel with the VM.</summary>
public sealed record MachineHostOptions
{
    public MachineBackend Backend { get; init; } = MachineBackend.Auto;
    public DirtyTrackingKind DirtyTracking { get; init; } = DirtyTrackingKind.Log;
    public bool HugePages { get; init; }
    public Stream? SerialOutput { get; init; }

    /// <summary>The backend that <see cref="MachineBackend.Auto"/> resolves to on this host.</summary>
    public MachineBackend Resolved => Backend != MachineBackend.Auto ? Backend : global::Tern.Kvm.Kvm.IsPresent ? MachineBackend.Kvm : MachineBackend.Sim;
}

/// <summary>Builds machines: a new guest running a built-in workload, or an empty machine for an incoming migration.</summary>
public static class MachineBuilder
{
    /// <summary>A machine with the workload loaded, ready to resume.</summary>
    public static IVirtualMachine Boot(GuestWorkload workload, ulong memoryBytes, int vcpus, MachineHostOptions host)
    {
        if (host.Resolved == MachineBackend.Sim)
            return SimMachine.Create(new SimMachineOptions(memoryBytes, vcpus, workload) { HugePages = host.HugePages });

        var machine = KvmMachine.Create(KvmOptions(memoryBytes, vcpus, workload.ToString(), host));
        try
        {
            var image = GuestImageBuilder.Build(workload, memoryBytes, new GuestBuildOptions(vcpus, (ulong)machine.TscKhz));
            machine.Load(GuestBoot.ToBootImage(image));
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An empty machine that can take the state of the machine <paramref name="description"/> describes. The
    /// description's backend must match this host's: a simulated guest's state means nothing to KVM and vice versa.
    /// </summary>
    public static IVirtualMachine CreateIncoming(MachineDescription description, MachineHostOptions host)
    {
        var backend = host.Resolved == MachineBackend.Kvm ? MachineDescription.KvmBackend : MachineDescription.SimBackend;
        // Backend names are exact, lower-case identifiers: a name Tern does not know is named as such (quoted, so
        // 'KVM' does not read like 'kvm'), never reported as a mismatch with this side's backend.
        if (description.Backend is not (MachineDescription.KvmBackend or MachineDescription.SimBackend))
            throw new InvalidOperationException($"the source names its machine backend {PeerText.Quote(description.Backend)}, which is not one of Tern's " +
                $"('{MachineDescription.KvmBackend}' or '{MachineDescription.SimBackend}', in lower case)");
        if (description.Backend != backend)
            throw new InvalidOperationException($"the source runs a '{description.Backend}' guest and this destination runs '{backend}' guests (start it with --backend {description.Backend})");
        if (description.VcpuCount is < 1 or > GuestBuildOptions.MaxVcpus)
            throw new InvalidOperationException($"the source describes {description.VcpuCount} vCPUs; Tern supports 1 to {GuestBuildOptions.MaxVcpus}");
        if (backend == MachineDescription.SimBackend)
        {
            var spec = GuestWorkload.TryParse(description.Workload, out var parsed, out var error)
                ? parsed! : throw new InvalidOperationException(description.Workload.Length > MaxQuotedWorkload
                    ? $"the simulated source describes workload {PeerText.Quote(description.Workload)}, which is not a workload"
                    : $"the simulated source describes workload {PeerText.Quote(description.Workload)}: {PeerText.Escape(error)}");
            return SimMachine.CreateIncoming(new SimMachineOptions(description.MemoryBytes, description.VcpuCount, spec) { HugePages = host.HugePages });
        }
        return KvmMachine.Create(KvmOptions(description.MemoryBytes, description.VcpuCount, description.Workload, host));
    }

    /// <summary>The longest workload whose parse error (which repeats it) is shown whole; real ones are under 100 characters.</summary>
    private const int MaxQuotedWorkload = 256;

    private static KvmMachineOptions KvmOptions(ulong memoryBytes, int vcpus, string workload, MachineHostOptions host) =>
        new(memoryBytes, vcpus)
        {
            Workload = workload,
            DirtyTracking = host.DirtyTracking,
            HugePages = host.HugePages,
            SerialOutput = host.SerialOutput,
        };
}
