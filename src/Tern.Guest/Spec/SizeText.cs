using System.Globalization;
using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// Prints sizes in the short form operators type (64M, 1G, 12K, 4096) so that a spec printed by
/// <see cref="WorkloadSpec.ToString"/> parses back with <see cref="ByteSize.TryParse"/>.
/// </summary>
internal static class SizeText
{
    public static string Format(ulong bytes)
    {
        if (bytes != 0)
        {
            if (bytes % (1UL << 40) == 0) return Whole(bytes >> 40, "T");
            if (bytes % (1UL << 30) == 0) return Whole(bytes >> 30, "G");
            if (bytes % (1UL << 20) == 0) return Whole(bytes >> 20, "M");
            if (bytes % (1UL << 10) == 0) return Whole(bytes >> 10, "K");
        }
        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    private static string Whole(ulong n, string unit) => n.ToString(CultureInfo.InvariantCulture) + unit;
}
