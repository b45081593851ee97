using Tern.Memory;

namespace Tern.Migration.Pages;

/// <summary>
/// <c>x-verify</c>'s digest for post-copy, where the destination's guest runs (and writes its RAM) before all pages
/// have arrived, so its RAM can never be hashed in one paused moment: the sum (mod 2^64) of the XXH3-64 of each
/// non-zero page with its index (<see cref="RamDigest"/> of that one page). A sum does not depend on the order the
/// pages are added in, so the destination adds each page as it arrived (the pages it held at the switch, then each
/// page at its first placement, from either lane), and the source adds its paused RAM. Zero pages add nothing, so a
/// hole and a page of zeros are the same. Thread-safe.
/// </summary>
public sealed class PageSetDigest : IDisposable
{
    private readonly RamDigest page = new();
    private readonly object gate = new();
    private ulong sum;
    private long pages;

    public ulong Value { get { lock (gate) return sum; } }

    /// <summary>Non-zero pages added.</summary>
    public long Pages { get { lock (gate) return pages; } }

    public void Add(PageIndex index, ReadOnlySpan<byte> contents)
    {
        if (ZeroPage.IsZero(contents)) return;
        lock (gate)
        {
            page.Reset();
            page.AddPage(index, contents);
            sum += page.Value;
            pages++;
        }
    }

    /// <summary>Adds every page of <paramref name="memory"/> that <paramref name="include"/> picks (holes are skipped without being read).</summary>
    public void AddMemory(IGuestMemory memory, Func<PageIndex, bool> include)
    {
        foreach (var range in memory.PopulatedRanges())
            for (ulong p = range.FirstPage.Value; p < range.FirstPage.Value + range.PageCount; p++)
            {
                var index = new PageIndex(p);
                if (include(index)) Add(index, memory.GetSpan(index.Address, PageSize.Bytes));
            }
    }

    public void Dispose() => page.Dispose();
}
