using Tern.Memory;

namespace Tern.Guest;

/// <summary>Bytes to copy into guest RAM at a guest-physical address before the first run.</summary>
public sealed record GuestBlob(string Name, GuestAddress Address, ReadOnlyMemory<byte> Bytes)
{
    public GuestRegion Region => new(Name, Address, (ulong)Bytes.Length);
}
