namespace Tern.Memory;

/// <summary>A range of guest-physical memory.</summary>
public readonly record struct GuestRange(GuestAddress Start, ulong Length)
{
    public GuestAddress End => Start.Add(Length);
    public PageIndex FirstPage => Start.Page;
    public ulong PageCount => Length / PageSize.Bytes;
}
