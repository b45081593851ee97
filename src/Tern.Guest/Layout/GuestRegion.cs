using Tern.Memory;

namespace Tern.Guest;

/// <summary>A named, page-aligned range of guest-physical memory.</summary>
public readonly record struct GuestRegion(string Name, GuestAddress Start, ulong Length)
{
    public GuestAddress End => Start.Add(Length);

    public PageIndex FirstPage => Start.Page;

    public ulong PageCount => Length / PageSize.Bytes;

    public bool Contains(GuestAddress address) => address >= Start && address.Value - Start.Value < Length;

    public bool Contains(PageIndex page) => Contains(page.Address);

    public bool Overlaps(GuestRegion other) =>
        Length != 0 && other.Length != 0 && Start < other.End && other.Start < End;

    public override string ToString() => $"{Name} [{Start}, {End})";
}
