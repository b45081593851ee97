using System.Globalization;

namespace Tern.Guest;

/// <summary>Finds the host's TSC frequency for images built outside Tern's VMM (which asks KVM_GET_TSC_KHZ instead).</summary>
public static class TscFrequency
{
    /// <summary>Used when /proc/cpuinfo gives no "cpu MHz" line: 2 GHz, so heartbeats come within a factor of two of 1 kHz.</summary>
    public const ulong FallbackKhz = 2_000_000;

    /// <summary>
    /// The first "cpu MHz" of /proc/cpuinfo in kHz, or null. On hosts with a constant, invariant TSC (constant_tsc,
    /// nonstop_tsc) and in VMs this is the TSC rate; with frequency scaling it may be the current core clock instead.
    /// </summary>
    public static ulong? FromCpuinfo(string cpuinfo)
    {
        foreach (var line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim() != "cpu MHz") continue;
            if (double.TryParse(line[(colon + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double mhz) && mhz > 0)
                return (ulong)Math.Round(mhz * 1000);
        }
        return null;
    }

    /// <summary>This host's TSC frequency from /proc/cpuinfo, or <see cref="FallbackKhz"/>.</summary>
    public static ulong HostKhzOrFallback()
    {
        try
        {
            return FromCpuinfo(File.ReadAllText("/proc/cpuinfo")) ?? FallbackKhz;
        }
        catch (IOException)
        {
            return FallbackKhz;
        }
        catch (UnauthorizedAccessException)
        {
            return FallbackKhz;
        }
    }
}
