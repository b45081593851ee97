namespace Tern.Migration.Planning;

/// <summary>What the source does after a pass, as a plan decides it.</summary>
public enum PassAction
{
    /// <summary>Send another pre-copy pass.</summary>
    Continue,
    /// <summary>Pause the guest, send the rest and hand the VM over.</summary>
    SwitchOver,
    /// <summary>Run the guest on the destination and send the rest on demand (post-copy; the destination must have accepted it).</summary>
    StartPostcopy,
    /// <summary>Give up; the guest keeps running on the source.</summary>
    Abort,
}

public static class PassActionNames
{
    /// <summary>The name in <c>x-plan</c> and in a pass report's <c>decision</c>.</summary>
    public static string ToQapi(this PassAction action) => action switch
    {
        PassAction.Continue => "continue",
        PassAction.SwitchOver => "switchover",
        PassAction.StartPostcopy => "postcopy",
        PassAction.Abort => "abort",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
    };

    public static bool TryParse(string name, out PassAction action)
    {
        foreach (var a in Enum.GetValues<PassAction>())
        {
            if (a.ToQapi() == name) { action = a; return true; }
        }
        action = default;
        return false;
    }
}
