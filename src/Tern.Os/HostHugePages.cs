using System.Globalization;

namespace Tern.Os;

/// <summary>The host's pool of default-size huge pages, as /proc/meminfo reports it (HugePages_Total, _Free, Hugepagesize).</summary>
/// <param name="Total">Huge pages reserved on the host.</param>
/// <param name="Free">Reserved huge pages nobody uses yet.</param>
/// <param name="PageBytes">The default huge page size (2 MiB on x86-64).</param>
public sealed record HostHugePages(long Total, long Free, ulong PageBytes)
{
    /// <summary>Reads /proc/meminfo; null when it cannot be read or lacks the huge page lines (no hugetlbfs).</summary>
    public static HostHugePages? TryRead(string path = HostMemoryInfo.DefaultPath)
    {
        long? total = null, free = null, sizeKb = null;
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                int colon = line.IndexOf(':');
                if (colon <= 0) continue;
                var name = line[..colon];
                if (name is not ("HugePages_Total" or "HugePages_Free" or "Hugepagesize")) continue;
                if (!long.TryParse(line[(colon + 1)..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                    return null;
                switch (name)
                {
                    case "HugePages_Total": total = value; break;
                    case "HugePages_Free": free = value; break;
                    default: sizeKb = value; break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return total is null || free is null || sizeKb is null ? null : new HostHugePages(total.Value, free.Value, (ulong)sizeKb.Value * 1024);
    }
}
