using Tern.Kvm.Structs;
using Tern.Memory;

namespace Tern.Machine;

/// <summary>
/// What a KVM machine boots: bytes to place in guest RAM and each vCPU's initial registers. Built from a Tern guest
/// workload (or a multiboot file) by the layer that knows the guest.
/// </summary>
public sealed record BootImage(IReadOnlyList<MemoryBlob> Blobs, IReadOnlyList<VcpuEntry> Vcpus)
{
    /// <summary>Turns the guest's panic record into text for the operator; null if the guest has none.</summary>
    public Func<int, IGuestMemory, string>? DescribePanic { get; init; }
}

/// <summary>Bytes to copy into guest RAM at a guest-physical address.</summary>
public sealed record MemoryBlob(GuestAddress Address, byte[] Bytes);

/// <summary>A vCPU's registers at boot.</summary>
public sealed record VcpuEntry(KvmRegs Regs, KvmSregs Sregs);
