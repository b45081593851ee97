namespace Tern.Memory;

/// <summary>A guest page frame number: the guest-physical address divided by the page size.</summary>
public readonly record struct PageIndex(ulong Value) : IComparable<PageIndex>
{
    public GuestAddress Address => new(checked(Value << PageSize.Shift));

    public PageIndex Next => new(checked(Value + 1));

    public int CompareTo(PageIndex other) => Value.CompareTo(other.Value);
    public static bool operator <(PageIndex a, PageIndex b) => a.Value < b.Value;
    public static bool operator >(PageIndex a, PageIndex b) => a.Value > b.Value;
    public static bool operator <=(PageIndex a, PageIndex b) => a.Value <= b.Value;
    public static bool operator >=(PageIndex a, PageIndex b) => a.Value >= b.Value;

    public override string ToString() => $"page {Value}";
}
