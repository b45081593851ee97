using System.Globalization;

namespace Tern.Bench.Macro;

/// <summary>Number formats for the macro benchmarks' tables (invariant culture; GB = 10^9 bytes, MiB = 2^20).</summary>
public static class Units
{
    public static string Fixed(double value, int decimals = 2) =>
        double.IsNaN(value) ? "-" : value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    public static string GBps(double bytesPerSecond) => Fixed(bytesPerSecond / 1e9);

    public static string Ratio(double value) => double.IsFinite(value) ? value.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-";

    public static string Count(double value) => double.IsNaN(value) ? "-" : value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Gib(ulong bytes) => bytes % (1UL << 30) == 0 ? $"{bytes >> 30} GiB" : $"{bytes >> 20} MiB";
}
