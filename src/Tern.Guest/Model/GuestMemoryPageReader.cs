using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// Read access to a machine's guest RAM one page at a time, for <see cref="WorkloadModel.Verify{TPages}"/> on RAM of
/// any size (a span from GPA 0 stops at 2 GiB). The guest must be paused for a consistent view.
/// </summary>
public readonly ref struct GuestMemoryPageReader(IGuestMemory memory) : IGuestPageReader
{
    private readonly IGuestMemory _memory = memory;

    public ReadOnlySpan<byte> Page(PageIndex page) => _memory.GetSpan(page.Address, PageSize.Bytes);
}
