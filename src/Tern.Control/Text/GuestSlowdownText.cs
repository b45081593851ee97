using System.Globalization;
using Tern.Migration.Api;

namespace Tern.Control.Text;

/// <summary>The guest's slowdown during a migration, as <c>info migrate</c> lines.</summary>
public static class GuestSlowdownText
{
    public static IEnumerable<string> Lines(GuestSlowdown s)
    {
        yield return string.Create(CultureInfo.InvariantCulture,
            $"guest progress: {Rate(s.ProgressBeforePerSecond)}/s before, {Rate(s.ProgressDuringPerSecond)}/s during the migration " +
            $"(over {s.BeforeSeconds:0.0} s and {s.DuringSeconds:0.0} s)");
        var perVcpu = s.VcpuSlowdowns.Select((f, v) => f is { } x ? $"vCPU {v} {Percent(x)}" : null).Where(t => t is not null).ToList();
        yield return $"guest slowdown: {Percent(s.Slowdown)}" + (perVcpu.Count > 1 ? $" ({string.Join(", ", perVcpu)})" : "");
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>Progress units a second, in the short form (12.3 M).</summary>
    private static string Rate(double perSecond) => perSecond switch
    {
        >= 1e9 => (perSecond / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + " G",
        >= 1e6 => (perSecond / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + " M",
        >= 1e3 => (perSecond / 1e3).ToString("0.00", CultureInfo.InvariantCulture) + " k",
        _ => perSecond.ToString("0", CultureInfo.InvariantCulture),
    };
}
