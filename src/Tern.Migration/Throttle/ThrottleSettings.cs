namespace Tern.Migration.Throttle;

/// <summary>
/// The operator's throttle settings, with QEMU 7.2's parameter names and defaults (QAPI <c>MigrationParameters</c>):
/// <c>throttle-trigger-threshold</c>, <c>cpu-throttle-initial</c>, <c>cpu-throttle-increment</c>,
/// <c>cpu-throttle-tailslow</c> and <c>max-cpu-throttle</c>. The step algorithm reads all of them; Tern's computed
/// throttle reads only the cap (and the downtime limit, which it takes from the measurement).
/// </summary>
public sealed record ThrottleSettings
{
    /// <summary><c>throttle-trigger-threshold</c>: throttle when the guest dirtied more than this percentage of what was sent in the period.</summary>
    public int TriggerThresholdPercent { get; init; } = 50;
    /// <summary><c>cpu-throttle-initial</c>: the step algorithm's first throttle.</summary>
    public int InitialPercent { get; init; } = 20;
    /// <summary><c>cpu-throttle-increment</c>: the step algorithm's step.</summary>
    public int IncrementPercent { get; init; } = 10;
    /// <summary><c>cpu-throttle-tailslow</c>: smaller steps near the needed throttle.</summary>
    public bool Tailslow { get; init; }
    /// <summary><c>max-cpu-throttle</c>: no vCPU is ever throttled above this.</summary>
    public int MaxPercent { get; init; } = 99;

    /// <summary>The first bad value in QEMU's words, or null.</summary>
    public string? Validate()
    {
        if (TriggerThresholdPercent is < 1 or > 100) return "throttle-trigger-threshold must be between 1 and 100";
        if (InitialPercent is < 1 or > 99) return "cpu-throttle-initial must be between 1 and 99";
        if (IncrementPercent is < 1 or > 99) return "cpu-throttle-increment must be between 1 and 99";
        if (MaxPercent is < 1 or > 99) return "max-cpu-throttle must be between 1 and 99";
        return null;
    }
}
