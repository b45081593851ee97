using Tern.Kvm.Structs;
using Tern.Os;

namespace Tern.Kvm;

/// <summary>
/// One vCPU's dirty ring (<c>KVM_CAP_DIRTY_LOG_RING</c>): KVM appends an entry for each page the vCPU dirties; the VMM
/// harvests entries in order and marks them for reset; <c>KVM_RESET_DIRTY_RINGS</c> then re-protects those pages.
/// Harvest from one thread at a time per ring (the caller holds a lock if several threads can harvest).
/// </summary>
public sealed unsafe class KvmDirtyRing : IDisposable
{
    /// <summary>The ring is mapped at this page offset of the vCPU file descriptor (<c>KVM_DIRTY_LOG_PAGE_OFFSET</c>).</summary>
    public const int PageOffset = 64;

    private readonly MemoryMapping mapping;
    private readonly KvmDirtyGfn* entries;
    private readonly uint mask;
    private uint fetchIndex;

    public KvmDirtyRing(KvmVcpu vcpu, int ringBytes)
    {
        if (ringBytes <= 0 || (ringBytes & (ringBytes - 1)) != 0)
            throw new ArgumentException($"dirty ring size must be a power of two, got {ringBytes}", nameof(ringBytes));
        mapping = MemoryMapping.MapShared(vcpu.Handle, (ulong)ringBytes, (long)PageOffset * HostInfo.PageSize);
        // The mapping holds ringBytes / 16 entries and lives as long as this object.
        entries = (KvmDirtyGfn*)mapping.Address;
        Capacity = ringBytes / sizeof(KvmDirtyGfn);
        mask = (uint)Capacity - 1;
        VcpuId = vcpu.Id;
    }

    public int VcpuId { get; }
    public int Capacity { get; }

    /// <summary>
    /// Collects every published entry, calling <paramref name="onDirty"/> with (slot, page offset in slot), and marks the
    /// entries harvested. Returns how many were collected. Follow with <see cref="KvmVm.ResetDirtyRings"/>.
    /// </summary>
    public int Harvest(Action<uint, ulong> onDirty)
    {
        int count = 0;
        while (true)
        {
            KvmDirtyGfn* entry = entries + (fetchIndex & mask);
            // Acquire: the slot and offset are valid once KVM has published the DIRTY flag.
            uint flags = Volatile.Read(ref entry->Flags);
            if ((flags & KvmDirtyGfn.FlagDirty) == 0) break;
            onDirty(entry->Slot, entry->Offset);
            // Release: hand the entry back to KVM.
            Volatile.Write(ref entry->Flags, KvmDirtyGfn.FlagReset);
            fetchIndex++;
            count++;
        }
        return count;
    }

    public void Dispose() => mapping.Dispose();
}
