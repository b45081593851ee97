using System.Globalization;

namespace Tern.Memory;

/// <summary>Parses and prints sizes the way operators write them: 512M, 1G, 64K, 4096.</summary>
public static class ByteSize
{
    /// <summary>Parses a size with an optional binary suffix (K, M, G, T; an optional trailing "iB" or "B").</summary>
    public static bool TryParse(string? text, out ulong bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim();
        if (s.EndsWith("iB", StringComparison.OrdinalIgnoreCase)) s = s[..^2];
        else if (s.EndsWith('B') || s.EndsWith('b')) s = s[..^1];
        ulong multiplier = 1;
        if (s.Length > 0)
        {
            switch (char.ToUpperInvariant(s[^1]))
            {
                case 'K': multiplier = 1UL << 10; break;
                case 'M': multiplier = 1UL << 20; break;
                case 'G': multiplier = 1UL << 30; break;
                case 'T': multiplier = 1UL << 40; break;
            }
            if (multiplier != 1) s = s[..^1];
        }
        if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return false;
        try { bytes = checked(n * multiplier); }
        catch (OverflowException) { return false; }
        return true;
    }

    public static ulong Parse(string text, string what) =>
        TryParse(text, out var b) ? b : throw new FormatException($"{what}: '{text}' is not a size (examples: 4096, 64K, 512M, 1G)");

    /// <summary>Formats with the largest binary unit that keeps the number exact-ish: 1.5 GiB, 512 MiB.</summary>
    public static string Format(ulong bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : v.ToString(v >= 100 ? "0" : v >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture) + " " + units[u];
    }
}
