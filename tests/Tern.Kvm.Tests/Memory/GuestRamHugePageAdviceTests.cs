using System.Globalization;
using Tern.Memory;

namespace Tern.Kvm.Tests.Memory;

/// <summary>
/// Guest RAM asks for transparent huge pages, as QEMU's does: on 4 KiB pages a guest sweeping 512 MiB ran at 0.6x
/// QEMU's speed (docs/benchmarks.md, issue 12). The advice is visible in the mapping's smaps flags ("hg"), whatever the
/// host then does with it.
/// </summary>
public sealed class GuestRamHugePageAdviceTests
{
    [Fact]
    public void The_guest_RAM_mapping_carries_the_huge_page_advice()
    {
        using var ram = GuestRam.Create(64 << 20);

        var flags = VmFlags(ram.HostAddress);

        Assert.Contains("hg", flags);
    }

    /// <summary>The VmFlags of the mapping that starts at <paramref name="address"/> in /proc/self/smaps.</summary>
    private static string[] VmFlags(nint address)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            if (dash > 0 && line.Length > dash + 1 && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start))
                inside = start == (ulong)address;
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        throw new InvalidOperationException($"no mapping starts at 0x{address:x} in /proc/self/smaps");
    }
}
