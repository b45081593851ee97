namespace Tern.Control.DirtyRate;

/// <summary>QAPI <c>DirtyRateMeasureMode</c>: how <c>calc-dirty-rate</c> measures.</summary>
public enum DirtyRateMode
{
    /// <summary>Hash a random sample of pages before and after the window; no dirty tracking, no cost to the guest.</summary>
    PageSampling,

    /// <summary>KVM's per-vCPU dirty rings, on only for the window (needs <c>--dirty-tracking ring</c>).</summary>
    DirtyRing,

    /// <summary>The dirty bitmap (KVM's dirty log, or the simulated guest's), on only for the window.</summary>
    DirtyBitmap,
}

public static class DirtyRateModeNames
{
    public static string ToQapi(this DirtyRateMode mode) => mode switch
    {
        DirtyRateMode.PageSampling => "page-sampling",
        DirtyRateMode.DirtyRing => "dirty-ring",
        DirtyRateMode.DirtyBitmap => "dirty-bitmap",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static bool TryParse(string text, out DirtyRateMode mode)
    {
        foreach (var m in Enum.GetValues<DirtyRateMode>())
        {
            if (m.ToQapi() == text)
            {
                mode = m;
                return true;
            }
        }
        mode = default;
        return false;
    }
}

/// <summary>QAPI <c>DirtyRateStatus</c>.</summary>
public enum DirtyRateStatus
{
    Unstarted,
    Measuring,
    Measured,
}

public static class DirtyRateStatusNames
{
    public static string ToQapi(this DirtyRateStatus status) => status switch
    {
        DirtyRateStatus.Unstarted => "unstarted",
        DirtyRateStatus.Measuring => "measuring",
        DirtyRateStatus.Measured => "measured",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static bool TryParse(string text, out DirtyRateStatus status)
    {
        foreach (var s in Enum.GetValues<DirtyRateStatus>())
        {
            if (s.ToQapi() == text)
            {
                status = s;
                return true;
            }
        }
        status = default;
        return false;
    }
}
