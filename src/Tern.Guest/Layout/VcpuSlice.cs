using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// The part of the working set one vCPU writes. Seq, random and stride use only region A (the vCPU's slice of
/// the working set). Hotcold uses A for its slice of the hot set and B for its slice of the cold rest.
/// Slices of different vCPUs never share a page.
/// </summary>
public readonly record struct VcpuSlice(GuestAddress RegionABase, ulong RegionAPages, GuestAddress RegionBBase, ulong RegionBPages)
{
    public ulong Pages => RegionAPages + RegionBPages;

    public bool Contains(PageIndex page) =>
        (page >= RegionABase.Page && page.Value - RegionABase.Page.Value < RegionAPages) ||
        (page >= RegionBBase.Page && page.Value - RegionBBase.Page.Value < RegionBPages);
}
