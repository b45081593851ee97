using System.Globalization;
using System.Text;
using Tern.Control.DirtyRate;

namespace Tern.Control.Text;

/// <summary>
/// Formats <see cref="DirtyRateInfo"/> as QEMU 7.2's HMP <c>info dirty_rate</c> does, then says how Tern obtained the
/// figure (how many pages were sampled and changed, and the estimate's standard error).
/// </summary>
public static class DirtyRateFormatter
{
    public static string Format(DirtyRateInfo info)
    {
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append('\n');
        Line($"Status: {info.Status.ToQapi()}");
        Line($"Start Time: {info.StartTimeSeconds} (s)");
        if (info.Mode == DirtyRateMode.PageSampling) Line($"Sample Pages: {info.SamplePages} (per GB)");
        Line($"Period: {info.CalcTimeSeconds} (sec)");
        Line($"Mode: {info.Mode.ToQapi()}");
        if (info.DirtyRateMib is { } rate)
        {
            Line($"Dirty rate: {rate} (MB/s)");
            if (info.VcpuDirtyRatesMib is { } perVcpu)
                for (int i = 0; i < perVcpu.Count; i++) Line($"vcpu[{i}], Dirty rate: {perVcpu[i]} (MB/s)");
        }
        else Line("Dirty rate: (not ready)");
        if (info.Status == DirtyRateStatus.Measured && HowMeasured(info) is { } how) Line(how);
        return text.ToString();
    }

    /// <summary>One line on how the figure was obtained, or null when the reply does not say (QEMU's).</summary>
    public static string? HowMeasured(DirtyRateInfo info)
    {
        if (info.SampledPages is { } sampled && info.ChangedPages is { } changed && info.WindowMs is { } window)
        {
            string error = info.StandardErrorMib is { } e ? string.Create(CultureInfo.InvariantCulture, $"; standard error {e:0.0} MB/s") : "";
            return $"Measured by page sampling (no dirty tracking): {changed} of {sampled} sampled pages changed in {window} ms{error}";
        }
        if (info.DirtyPages is { } pages && info.WindowMs is { } ms)
            return $"Measured by {info.Mode.ToQapi()} (dirty tracking on for the window only): {pages} pages dirtied in {ms} ms";
        return null;
    }
}
