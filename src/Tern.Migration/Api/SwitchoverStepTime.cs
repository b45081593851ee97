namespace Tern.Migration.Api;

/// <summary>
/// The steps of the switchover, in order, as <c>x-switchover</c> names them: where the downtime goes.
/// </summary>
public enum SwitchoverStep
{
    /// <summary>Pausing the vCPUs.</summary>
    Pause,
    /// <summary>The last dirty-page sync.</summary>
    FinalSync,
    /// <summary>Encoding and sending the last dirty pages.</summary>
    FinalPass,
    /// <summary>Saving and sending the device state.</summary>
    DeviceState,
    /// <summary>Waiting for the RAM digest (x-verify), taken while the final pass went out.</summary>
    Digest,
    /// <summary>Handing Complete and everything before it to the kernel.</summary>
    Sent,
    /// <summary>Waiting for the destination's Ready (and comparing the digests).</summary>
    Ready,
    /// <summary>Writing Commit.</summary>
    Commit,
    /// <summary>Waiting for the destination's Resumed.</summary>
    Resumed,
}

/// <summary>How long one switchover step took, in ms.</summary>
public sealed record SwitchoverStepTime(SwitchoverStep Step, double Ms);

public static class SwitchoverStepNames
{
    /// <summary>The kebab-case name in <c>x-switchover</c>, e.g. <c>final-sync</c>.</summary>
    public static string ToQapi(this SwitchoverStep step) => step switch
    {
        SwitchoverStep.Pause => "pause",
        SwitchoverStep.FinalSync => "final-sync",
        SwitchoverStep.FinalPass => "final-pass",
        SwitchoverStep.DeviceState => "device-state",
        SwitchoverStep.Digest => "digest",
        SwitchoverStep.Sent => "sent",
        SwitchoverStep.Ready => "ready",
        SwitchoverStep.Commit => "commit",
        SwitchoverStep.Resumed => "resumed",
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, null),
    };

    public static bool TryParse(string name, out SwitchoverStep step)
    {
        foreach (var s in Enum.GetValues<SwitchoverStep>())
        {
            if (s.ToQapi() == name) { step = s; return true; }
        }
        step = default;
        return false;
    }
}
