using Tern.Memory;
using Tern.Migration.Pages;

namespace Tern.Migration.Engine;

/// <summary>
/// The end-to-end digest of guest RAM behind x-verify, computed the same way on both sides while the guest is
/// paused: XXH3-64 over every non-zero page in page order, each run of consecutive pages preceded by its page index
/// (see <see cref="RamDigest"/>), so the digest covers where every non-zero byte is. All-zero pages are left out:
/// they are the bulk of most guests, never-touched RAM would otherwise have to be read (which allocates it, about
/// 1.5 s a GiB here) and hashing zeros costs downtime for nothing.
/// </summary>
internal static class RamDigests
{
    public static (ulong Digest, long Pages) Compute(IGuestMemory memory)
    {
        using var digest = new RamDigest();
        foreach (var range in memory.PopulatedRanges())
        {
            ulong runStart = 0, runPages = 0;
            for (ulong p = range.FirstPage.Value; p < range.FirstPage.Value + range.PageCount; p++)
            {
                var page = new PageIndex(p);
                if (ZeroPage.IsZero(memory.GetSpan(page.Address, PageSize.Bytes)))
                {
                    Flush(memory, digest, runStart, runPages);
                    runPages = 0;
                    continue;
                }
                if (runPages == 0) runStart = p;
                runPages++;
                if (runPages == MaxRunPages)
                {
                    Flush(memory, digest, runStart, runPages);
                    runPages = 0;
                }
            }
            Flush(memory, digest, runStart, runPages);
        }
        return (digest.Value, digest.PagesHashed);
    }

    /// <summary>At most 1 GiB a hash call (a span's length is an int).</summary>
    private const ulong MaxRunPages = (1UL << 30) / PageSize.Bytes;

    private static void Flush(IGuestMemory memory, RamDigest digest, ulong first, ulong pages)
    {
        if (pages == 0) return;
        var start = new PageIndex(first);
        digest.DigestRange(start, memory.GetSpan(start.Address, (int)(pages * PageSize.Bytes)));
    }
}
