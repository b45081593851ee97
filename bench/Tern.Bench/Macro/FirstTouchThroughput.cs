using System.Diagnostics;
using Tern.Memory;

namespace Tern.Bench.Macro;

/// <summary>
/// The destination's own limit: guest RAM is a fresh memfd, and every page that arrives is that page's first touch,
/// which costs a page fault. Measured on a fresh <see cref="GuestRam"/>, exactly as a destination machine has it:
/// copying a page into each page (what receiving does), and, for comparison, populating the whole range at once with
/// MADV_POPULATE_WRITE (<see cref="GuestRam.Prefault"/>).
/// </summary>
public static class FirstTouchThroughput
{
    /// <summary>Bytes per second when each page of fresh guest RAM is written for the first time.</summary>
    public static double PageCopies(ulong bytes)
    {
        using var ram = GuestRam.Create(bytes);
        var page = new byte[PageSize.Bytes];
        new Random(3).NextBytes(page);
        long started = Stopwatch.GetTimestamp();
        for (ulong p = 0; p < ram.PageCount; p++) ram.WritePage(new PageIndex(p), page);
        return bytes / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Bytes per second when fresh guest RAM is populated in one MADV_POPULATE_WRITE call.</summary>
    public static double Populate(ulong bytes)
    {
        using var ram = GuestRam.Create(bytes);
        long started = Stopwatch.GetTimestamp();
        ram.Prefault(GuestAddress.Zero, bytes);
        return bytes / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
