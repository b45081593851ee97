using System.Text;
using Tern.Migration.Throttle;

namespace Tern.Control.Text;

/// <summary>Formats <c>query-vcpu-dirty-limit</c>'s answer as QEMU's HMP <c>info vcpu_dirty_limit</c> does.</summary>
public static class DirtyLimitFormatter
{
    public static string Format(IReadOnlyList<VcpuDirtyLimit> limits)
    {
        if (limits.Count == 0) return "Dirty page limit not enabled!\n";
        var text = new StringBuilder();
        foreach (var l in limits)
            text.Append($"vcpu[{l.CpuIndex}], limit rate {l.LimitRate} (MB/s), current rate {l.CurrentRate} (MB/s)\n");
        return text.ToString();
    }
}
