namespace Tern.Memory;

/// <summary>
/// A guest-physical address. Kept distinct from region offsets, page numbers and host pointers
/// so that the three are never mixed silently; arithmetic is checked.
/// </summary>
public readonly record struct GuestAddress(ulong Value) : IComparable<GuestAddress>
{
    public static GuestAddress Zero => default;

    public PageIndex Page => new(Value >> PageSize.Shift);
    public int PageOffset => (int)(Value & PageSize.OffsetMask);
    public bool IsPageAligned => (Value & PageSize.OffsetMask) == 0;

    public GuestAddress Add(ulong bytes) => new(checked(Value + bytes));
    public ulong Distance(GuestAddress lower) => checked(Value - lower.Value);

    public int CompareTo(GuestAddress other) => Value.CompareTo(other.Value);
    public static bool operator <(GuestAddress a, GuestAddress b) => a.Value < b.Value;
    public static bool operator >(GuestAddress a, GuestAddress b) => a.Value > b.Value;
    public static bool operator <=(GuestAddress a, GuestAddress b) => a.Value <= b.Value;
    public static bool operator >=(GuestAddress a, GuestAddress b) => a.Value >= b.Value;

    public override string ToString() => $"0x{Value:x}";
}
