using System.Diagnostics;
using Tern.Os.Native;

namespace Tern.Memory.DirtyRate;

/// <summary>
/// Page sampling, as QEMU's <c>calc-dirty-rate</c> does it by default: pick pages of guest RAM at random, remember a
/// hash of each, and later count how many hash differently. It only reads guest memory, so unlike dirty tracking it
/// costs the guest nothing (no page is write-protected, no write faults). Each page is copied out before it is hashed,
/// as the guest may be writing it. Pages in never-touched holes of RAM are not read (reading would allocate them):
/// they hash as a zero page, which is what they hold.
/// </summary>
public sealed class PageSample
{
    private static readonly ulong ZeroPageHash = XxHash3.Hash64(new byte[PageSize.Bytes]);

    private readonly IGuestMemory memory;
    private readonly PageIndex[] pages;
    private readonly ulong[] hashes;
    private readonly long takenAt;

    private PageSample(IGuestMemory memory, PageIndex[] pages)
    {
        this.memory = memory;
        this.pages = pages;
        hashes = new ulong[pages.Length];
        HashInto(hashes);
        takenAt = Stopwatch.GetTimestamp();
    }

    /// <summary>Samples <paramref name="count"/> distinct pages of <paramref name="memory"/>, chosen uniformly at random.</summary>
    public static PageSample Take(IGuestMemory memory, int count, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((ulong)count, memory.PageCount, nameof(count));
        return new PageSample(memory, ChoosePages(memory.PageCount, count, random));
    }

    /// <summary>The sampled pages, in ascending order.</summary>
    public IReadOnlyList<PageIndex> Pages => pages;

    public int Count => pages.Length;

    /// <summary>How long ago the sample was hashed.</summary>
    public TimeSpan Age => Stopwatch.GetElapsedTime(takenAt);

    /// <summary>Hashes the sampled pages again and counts those that changed since the sample was taken.</summary>
    public int CountChanged()
    {
        var now = new ulong[pages.Length];
        HashInto(now);
        int changed = 0;
        for (int i = 0; i < now.Length; i++)
        {
            if (now[i] != hashes[i]) changed++;
        }
        return changed;
    }

    /// <summary>
    /// Robert Floyd's algorithm: <paramref name="count"/> distinct values of [0, <paramref name="pageCount"/>), each
    /// subset equally likely, in O(count) time and space whatever the size of RAM.
    /// </summary>
    private static PageIndex[] ChoosePages(ulong pageCount, int count, Random random)
    {
        var chosen = new HashSet<ulong>(count);
        for (ulong j = pageCount - (ulong)count; j < pageCount; j++)
        {
            ulong t = (ulong)random.NextInt64(0, (long)j + 1);
            chosen.Add(chosen.Contains(t) ? j : t);
        }
        var pages = chosen.Select(p => new PageIndex(p)).ToArray();
        Array.Sort(pages);
        return pages;
    }

    private void HashInto(ulong[] target)
    {
        Span<byte> copy = stackalloc byte[PageSize.Bytes];
        for (int i = 0; i < pages.Length; i++)
        {
            var page = pages[i];
            if (!memory.IsPopulated(page))
            {
                target[i] = ZeroPageHash;
                continue;
            }
            memory.ReadPage(page, copy);
            target[i] = XxHash3.Hash64(copy);
        }
    }
}
