using System.Globalization;

namespace Tern.Os;

/// <summary>The host's memory as /proc/meminfo reports it, in bytes.</summary>
/// <param name="TotalBytes">MemTotal: usable RAM.</param>
/// <param name="AvailableBytes">
/// MemAvailable: the kernel's estimate of what can be allocated without swapping (free memory plus reclaimable
/// caches). Kernels before 3.14 lack it; then MemFree stands in, an underestimate.
/// </param>
/// <param name="FreeBytes">MemFree: memory not used for anything.</param>
public sealed record HostMemoryInfo(ulong TotalBytes, ulong AvailableBytes, ulong FreeBytes)
{
    public const string DefaultPath = "/proc/meminfo";

    /// <summary>Reads and parses /proc/meminfo (or another file in its format).</summary>
    public static HostMemoryInfo Read(string path = DefaultPath)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read host memory information from {path}: {e.Message}", e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses text in /proc/meminfo's format ("MemTotal:   16384 kB" lines); <paramref name="source"/> names it in errors.</summary>
    public static HostMemoryInfo Parse(string text, string source = DefaultPath)
    {
        ulong? total = null, available = null, free = null;
        foreach (var line in text.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var name = line[..colon];
            if (name is not ("MemTotal" or "MemAvailable" or "MemFree")) continue;
            ulong bytes = ParseKilobytes(line[(colon + 1)..], name, source);
            switch (name)
            {
                case "MemTotal": total = bytes; break;
                case "MemAvailable": available = bytes; break;
                default: free = bytes; break;
            }
        }
        if (total is null) throw new FormatException($"{source}: no MemTotal line; is this a Linux /proc/meminfo?");
        if (free is null) throw new FormatException($"{source}: no MemFree line; is this a Linux /proc/meminfo?");
        return new HostMemoryInfo(total.Value, available ?? free.Value, free.Value);
    }

    private static ulong ParseKilobytes(string value, string name, string source)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 1 or > 2 || (parts.Length == 2 && parts[1] != "kB")
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong kilobytes))
            throw new FormatException($"{source}: cannot read {name} from '{value.Trim()}' (expected a number of kB)");
        // /proc/meminfo's "kB" are KiB.
        return parts.Length == 2 ? checked(kilobytes * 1024) : kilobytes;
    }
}
