namespace Tern.Memory;

/// <summary>A KVM memory slot: a range of guest-physical pages backed by a range of host memory.</summary>
public sealed record MemorySlot(uint Slot, GuestAddress GuestStart, ulong Size, nint HostAddress)
{
    public PageIndex FirstPage => GuestStart.Page;
    public ulong PageCount => Size / PageSize.Bytes;
}
